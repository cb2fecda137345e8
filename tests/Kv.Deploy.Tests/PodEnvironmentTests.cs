using System.Text.Json;
using Kv.Deploy.Tests.Manifests;
using Kv.Server.Configuration;

namespace Kv.Deploy.Tests;

/// <summary>
/// Each pod's environment from the StatefulSet (expanded as the kubelet does, over the image's ENV), read by the
/// server's own settings reader: the node ids, addresses and the bootstrap-or-join choice the manifests intend.
/// </summary>
public sealed class PodEnvironmentTests(DeployFixture deploy) : IClassFixture<DeployFixture>
{
    [Theory]
    [InlineData("kv-0", 1)]
    [InlineData("kv-1", 2)]
    [InlineData("kv-2", 3)]
    public async Task TheInitialPods_BootstrapTogetherAsNodes1To3(string pod, int nodeId)
    {
        NodeOptions options = PodSettings.Read(await PodSettings.EnvironmentAsync(deploy.Yaml, deploy.Image, pod));

        Assert.Equal(nodeId, options.NodeId);
        Assert.Equal("/var/lib/kv", options.DataDirectory);
        Assert.Equal(new Uri("http://0.0.0.0:7100"), options.Listen);
        Assert.Equal(new Uri("http://0.0.0.0:7180"), options.MetricsListen);
        Assert.Equal(
            ["1=http://kv-0.kv-peers.default.svc:7100", "2=http://kv-1.kv-peers.default.svc:7100", "3=http://kv-2.kv-peers.default.svc:7100"],
            options.Peers.Select(p => p.ToString()));
        Assert.False(options.JoinsExistingCluster);
        Assert.Equal(new Uri($"http://{pod}.kv-peers.default.svc:7100"), options.AdvertisedUrl);
    }

    [Theory]
    [InlineData("kv-3", 4)]
    [InlineData("kv-4", 5)]
    public async Task PodsAddedByScalingUp_JoinTheInitialMembersAtTheirOwnName(string pod, int nodeId)
    {
        NodeOptions options = PodSettings.Read(await PodSettings.EnvironmentAsync(deploy.Yaml, deploy.Image, pod));

        Assert.Equal(nodeId, options.NodeId);
        Assert.True(options.JoinsExistingCluster);
        Assert.Equal(new Uri($"http://{pod}.kv-peers.default.svc:7100"), options.AdvertisedUrl);
        Assert.Equal(
            ["http://kv-0.kv-peers.default.svc:7100/", "http://kv-1.kv-peers.default.svc:7100/", "http://kv-2.kv-peers.default.svc:7100/"],
            options.Join.Select(u => u.ToString()));
    }

    [Fact]
    public async Task InAnotherNamespace_ThePeerNamesFollowIt()
    {
        NodeOptions options = PodSettings.Read(await PodSettings.EnvironmentAsync(deploy.Yaml, deploy.Image, "kv-1", "prod"));

        Assert.Equal(new Uri("http://kv-1.kv-peers.prod.svc:7100"), options.AdvertisedUrl);
        Assert.All(options.Peers, p => Assert.EndsWith(".kv-peers.prod.svc", p.Url.Host, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheVariablesKubernetesInjectsForAServiceNamedKv_DoNotChangeTheSettings()
    {
        // The StatefulSet turns service links off, but a cluster policy or an older manifest may not.
        var environment = await PodSettings.EnvironmentAsync(deploy.Yaml, deploy.Image, "kv-1");
        NodeOptions without = PodSettings.Read(environment);
        environment["KV_SERVICE_HOST"] = "10.96.14.7";
        environment["KV_SERVICE_PORT"] = "7100";
        environment["KV_SERVICE_PORT_GRPC"] = "7100";
        environment["KV_PORT"] = "tcp://10.96.14.7:7100";
        environment["KV_PORT_7100_TCP"] = "tcp://10.96.14.7:7100";
        environment["KV_PORT_7100_TCP_PORT"] = "7100";
        environment["KV_PORT_7100_TCP_ADDR"] = "10.96.14.7";

        // NodeOptions holds lists, which a record compares by reference: compare the settings' values.
        Assert.Equal(JsonSerializer.Serialize(without), JsonSerializer.Serialize(PodSettings.Read(environment)));
    }

    [Fact]
    public async Task AnAdvertisedNameThatIsNotThePodsPeerEntry_StopsTheNodeWithAClearMessage()
    {
        var environment = await PodSettings.EnvironmentAsync(deploy.Yaml, deploy.Image, "kv-1");
        environment["KV_ADVERTISE"] = "http://kv-1.kv-nodes.default.svc:7100";

        var e = Assert.Throws<NodeOptionsException>(() => PodSettings.Read(environment));

        Assert.Contains("Advertise: 'http://kv-1.kv-nodes.default.svc:7100' differs from this node's entry in Peers (2=http://kv-1.kv-peers.default.svc:7100)",
            e.Message, StringComparison.Ordinal);
    }
}
