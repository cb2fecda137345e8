using System.Text.Json.Nodes;
using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Manifests;
using static Kv.Deploy.Tests.Manifests.BrokenManifests;

namespace Kv.Deploy.Tests;

/// <summary>
/// The manifests and the Dockerfile keep the invariants a Kv cluster needs (<see cref="DeploymentInvariants"/>), and
/// each invariant, broken on purpose, is reported.
/// </summary>
public sealed class ManifestInvariantTests(DeployFixture deploy) : IClassFixture<DeployFixture>
{
    [Fact]
    public void TheManifestsAndTheImage_KeepEveryInvariant() =>
        Assert.Empty(DeploymentInvariants.Check(ManifestTools.Copy(deploy.Report.Objects), deploy.Image));

    [Fact]
    public void AnEvenReplicaCount_IsReported() =>
        AssertReported(o => Set(o)["spec"]!["replicas"] = 4, "replicas must be odd and at least 3");

    [Fact]
    public void ABudgetThatAllowsLosingTheMajority_IsReported() =>
        AssertReported(o => Budget(o)["spec"]!["maxUnavailable"] = 2, "PodDisruptionBudget/kv: keeps 1 of 3 pods, below the majority 2");

    [Fact]
    public void ABudgetInPercent_IsReported() =>
        AssertReported(o => Budget(o)["spec"]!["maxUnavailable"] = "50%", "give maxUnavailable or minAvailable as a number of pods");

    [Fact]
    public void AReadinessProbeOnAPortNobodyListensOn_IsReported() =>
        AssertReported(o => Container(o)["readinessProbe"]!["grpc"]!["port"] = 7101, "readinessProbe probes port 7101, which the container does not declare");

    [Fact]
    public void ALivenessProbeOnTheMetricsPort_IsReported() =>
        AssertReported(o => Container(o)["livenessProbe"]!["grpc"]!["port"] = 7180, "livenessProbe probes port 7180, not the gRPC port 7100");

    [Fact]
    public void AMissingLivenessProbe_IsReported() =>
        AssertReported(o => Container(o).Remove("livenessProbe"), "the container has no livenessProbe");

    [Fact]
    public void AListenPortThatIsNotTheContainerPort_IsReported() =>
        AssertReported(o => Env(o, "KV_LISTEN")["value"] = "http://0.0.0.0:7200", "KV_LISTEN (http://0.0.0.0:7200) is not on the grpc container port 7100");

    [Fact]
    public void AScrapeAnnotationOnTheWrongPort_IsReported() =>
        AssertReported(o => Set(o)["spec"]!["template"]!["metadata"]!["annotations"]!["prometheus.io/port"] = "7100",
            "prometheus.io/port (7100) is not the metrics port 7180");

    [Fact]
    public void APeerServiceThatHidesNotReadyPods_IsReported() =>
        AssertReported(o => Service(o, "kv-peers")["spec"]!["publishNotReadyAddresses"] = false, "Service kv-peers must publish not-ready addresses");

    [Fact]
    public void PeersNamedUnderAnotherService_AreReported() =>
        AssertReported(o => Env(o, "KV_PEERS")["value"] = Env(o, "KV_PEERS")["value"]!.GetValue<string>().Replace("kv-peers", "kv-nodes", StringComparison.Ordinal),
            "KV_PEERS entry 1=http://kv-0.kv-nodes.$(POD_NAMESPACE).svc:7100 is not 1=http://kv-0.kv-peers.");

    [Fact]
    public void AClientServiceAimedAtAnUndeclaredPort_IsReported() =>
        AssertReported(o => Service(o, "kv")["spec"]!["ports"]![0]!["targetPort"] = "client", "Service/kv: targetPort client is not a container port");

    [Fact]
    public void DataOutsideTheClaimedVolume_IsReported() =>
        AssertReported(o => Env(o, "KV_DATA_DIR")["value"] = "/data", "KV_DATA_DIR (/data) is not a volume mount");

    [Fact]
    public void NoAntiAffinity_IsReported() =>
        AssertReported(o => Set(o)["spec"]!["template"]!["spec"]!.AsObject().Remove("affinity"), "no required pod anti-affinity on kubernetes.io/hostname");

    [Fact]
    public void AShortGracePeriod_IsReported() =>
        AssertReported(o => Set(o)["spec"]!["template"]!["spec"]!["terminationGracePeriodSeconds"] = 1, "terminationGracePeriodSeconds 1 is below 10");

    [Fact]
    public void AnImageExposingOtherPorts_IsReported()
    {
        string dockerfile = File.ReadAllText(Tools.RepositoryPaths.Dockerfile).Replace("EXPOSE 7100 7180", "EXPOSE 7100 9090", StringComparison.Ordinal);

        var problems = DeploymentInvariants.Check(ManifestTools.Copy(deploy.Report.Objects), DockerfileFacts.Parse(dockerfile));

        Assert.Contains("Dockerfile: EXPOSE 7100 9090 differs from the container ports 7100 7180", problems);
    }

    [Fact]
    public void AnImageWhoseSettingsDifferFromThePods_IsReported()
    {
        string dockerfile = File.ReadAllText(Tools.RepositoryPaths.Dockerfile).Replace("KV_DATA_DIR=/var/lib/kv", "KV_DATA_DIR=/data", StringComparison.Ordinal);

        var problems = DeploymentInvariants.Check(ManifestTools.Copy(deploy.Report.Objects), DockerfileFacts.Parse(dockerfile));

        Assert.Contains("Dockerfile: ENV KV_DATA_DIR=/data differs from the StatefulSet's /var/lib/kv", problems);
    }

    private void AssertReported(Action<List<JsonObject>> breakIt, string expected) =>
        BrokenManifests.AssertReported(deploy.Report.Objects, deploy.Image, breakIt, expected);

    private static JsonObject Budget(List<JsonObject> objects) => objects.Single(o => o["kind"]!.GetValue<string>() == "PodDisruptionBudget");

    private static JsonObject Service(List<JsonObject> objects, string name) =>
        objects.Single(o => o["kind"]!.GetValue<string>() == "Service" && o["metadata"]!["name"]!.GetValue<string>() == name);
}
