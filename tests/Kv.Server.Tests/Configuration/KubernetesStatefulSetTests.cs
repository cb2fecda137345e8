using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>
/// The settings' names against what Kubernetes injects. The StatefulSet itself (deploy/k8s) is checked by
/// tests/Kv.Deploy.Tests, which reads the real manifests: each pod's environment through the settings reader.
/// </summary>
public sealed class KubernetesStatefulSetTests
{
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

    [Theory]
    [InlineData("kv-0", 1)]
    [InlineData("kv-2", 3)]
    [InlineData("my-kv-cluster-12", 13)]
    public void APodNameAsTheOrdinal_YieldsOrdinalPlusOne(string podName, int nodeId) =>
        Assert.Equal(nodeId, NodeConfiguration.Load([], new Dictionary<string, string> { ["KV_NODE_ORDINAL"] = podName }, appSettingsPath: null).NodeId);
}
