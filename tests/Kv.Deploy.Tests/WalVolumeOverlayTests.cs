using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Manifests;
using static Kv.Deploy.Tests.Manifests.BrokenManifests;
using Kv.Server.Configuration;

namespace Kv.Deploy.Tests;

/// <summary>
/// deploy/overlays/wal-volume: the base manifests plus a claim of its own per pod for the WAL. It passes the schema and
/// every invariant, the node reads the WAL directory from the pod's environment, and a WAL on an emptyDir, on the data
/// volume or on no mount at all is reported.
/// </summary>
public sealed class WalVolumeOverlayTests(WalVolumeFixture overlay) : IClassFixture<WalVolumeFixture>
{
    [Fact]
    public void TheOverlay_PassesTheSchemaAndKeepsEveryInvariant()
    {
        Assert.True(overlay.Report.AllValid, string.Join('\n', overlay.Report.Errors));
        Assert.Empty(DeploymentInvariants.Check(ManifestTools.Copy(overlay.Report.Objects), overlay.Image));
        var claims = Set(ManifestTools.Copy(overlay.Report.Objects))["spec"]!["volumeClaimTemplates"]!.AsArray()
            .Select(c => c!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(["data", "wal"], claims);
    }

    [Theory]
    [InlineData("kv-0")]
    [InlineData("kv-3")]
    public async Task EveryPod_PutsItsWalOnTheWalVolume_AndItsDataWhereTheyWere(string pod)
    {
        NodeOptions options = PodSettings.Read(await PodSettings.EnvironmentAsync(overlay.Yaml, overlay.Image, pod));

        Assert.Equal("/var/lib/kv-wal", options.WalDirectory);
        Assert.Equal("/var/lib/kv", options.DataDirectory);
    }

    [Fact]
    public void AWalOnAnEmptyDir_IsReported() =>
        AssertReported(o => Mount(o, "/var/lib/kv-wal")["name"] = "tmp",
            "KV_WAL_DIR (/var/lib/kv-wal) is mounted from tmp, not from a volumeClaimTemplate");

    [Fact]
    public void AWalOnTheDataVolume_IsReported() =>
        AssertReported(o => Mount(o, "/var/lib/kv-wal")["name"] = "data",
            "KV_WAL_DIR (/var/lib/kv-wal) is on the data directory's volume data");

    [Fact]
    public void AWalDirectoryThatIsNoMount_IsReported() =>
        AssertReported(o => Env(o, "KV_WAL_DIR")["value"] = "/var/lib/kv-log", "KV_WAL_DIR (/var/lib/kv-log) is not a volume mount");

    private void AssertReported(Action<List<JsonObject>> breakIt, string expected) =>
        BrokenManifests.AssertReported(overlay.Report.Objects, overlay.Image, breakIt, expected);
}
