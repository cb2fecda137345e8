using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>
/// The environment of pod kv-1 of the StatefulSet in docs/configuration.md ("Kubernetes"), as the kubelet sets it:
/// the manifest's KV_ variables, the downward-API ordinal, and the variables Kubernetes injects for a Service named
/// "kv" (KV_PORT, KV_SERVICE_HOST, …), which must not be mistaken for settings.
/// </summary>
public sealed class KubernetesStatefulSetTests
{
    private const string Peers =
        "1=http://kv-0.kv-peers.default.svc.cluster.local:7100,"
        + "2=http://kv-1.kv-peers.default.svc.cluster.local:7100,"
        + "3=http://kv-2.kv-peers.default.svc.cluster.local:7100";

    private static Dictionary<string, string> PodEnvironment(string ordinal) => new()
    {
        // From the manifest.
        ["KV_NODE_ORDINAL"] = ordinal,
        ["KV_DATA_DIR"] = "/var/lib/kv",
        ["KV_LISTEN"] = "http://0.0.0.0:7100",
        ["KV_METRICS_LISTEN"] = "http://0.0.0.0:7180",
        ["KV_PEERS"] = Peers,
        // Set by the kubelet and the image.
        ["HOSTNAME"] = "kv-1",
        ["KV_SERVICE_HOST"] = "10.96.14.7",
        ["KV_SERVICE_PORT"] = "7100",
        ["KV_SERVICE_PORT_GRPC"] = "7100",
        ["KV_PORT"] = "tcp://10.96.14.7:7100",
        ["KV_PORT_7100_TCP"] = "tcp://10.96.14.7:7100",
        ["KV_PORT_7100_TCP_PROTO"] = "tcp",
        ["KV_PORT_7100_TCP_PORT"] = "7100",
        ["KV_PORT_7100_TCP_ADDR"] = "10.96.14.7",
        ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
    };

    [Fact]
    public void PodIndexLabel_YieldsTheIntendedSettings()
    {
        NodeOptions options = NodeConfiguration.Load([], PodEnvironment("1"), appSettingsPath: null);

        Assert.Equal(2, options.NodeId);
        Assert.Equal("/var/lib/kv", options.DataDirectory);
        Assert.Equal(new Uri("http://0.0.0.0:7100"), options.Listen);
        Assert.Equal(new Uri("http://0.0.0.0:7180"), options.MetricsListen);
        Assert.Equal([1, 2, 3], options.Peers.Select(p => p.NodeId));
        Assert.Equal(new Uri("http://kv-1.kv-peers.default.svc.cluster.local:7100"), options.Peers.Single(p => p.NodeId == options.NodeId).Url);
        Assert.Empty(options.Join);
        Assert.Equal(new NodeOptions().TickIntervalMs, options.TickIntervalMs);
    }

    [Theory]
    [InlineData("kv-0", 1)]
    [InlineData("kv-2", 3)]
    [InlineData("my-kv-cluster-12", 13)]
    public void PodNameInsteadOfTheIndexLabel_YieldsTheSameNodeId(string podName, int nodeId)
    {
        var environment = PodEnvironment(podName);
        if (nodeId > 3) environment["KV_PEERS"] = Peers + $",{nodeId}=http://kv-x:7100";

        Assert.Equal(nodeId, NodeConfiguration.Load([], environment, appSettingsPath: null).NodeId);
    }

    [Fact]
    public void NoSettingsVariable_CollidesWithTheVariablesKubernetesInjectsForAServiceNamedKv()
    {
        Assert.All(NodeSettings.All, s =>
        {
            Assert.StartsWith("KV_", s.EnvironmentVariable, StringComparison.Ordinal);
            Assert.False(s.EnvironmentVariable.StartsWith("KV_SERVICE_", StringComparison.Ordinal), s.EnvironmentVariable);
            Assert.False(s.EnvironmentVariable.StartsWith("KV_PORT", StringComparison.Ordinal), s.EnvironmentVariable);
        });
    }
}
