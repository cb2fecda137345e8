using Kv.Server.Configuration;
using Kv.Server.Node;

namespace Kv.Server.Tests.Node;

/// <summary>The node's gRPC health, as Kubernetes probes and the image's <c>health</c> command ask for it.</summary>
public sealed class HealthProbeTests
{
    [Fact(Timeout = 60_000)]
    public async Task EveryServingNode_AnswersServing()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        foreach (int id in new[] { 1, 2, 3 })
        {
            var output = new StringWriter();

            int exitCode = await HealthProbe.RunAsync(cluster.Node(id).Options, TimeSpan.FromSeconds(10), output, CancellationToken.None);

            Assert.True(exitCode == 0, output.ToString());
            Assert.Contains("Serving", output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task NoNodeListening_Fails()
    {
        var output = new StringWriter();

        int exitCode = await HealthProbe.RunAsync(new NodeOptions { Listen = new Uri("http://127.0.0.1:1") }, TimeSpan.FromSeconds(5), output, CancellationToken.None);

        Assert.Equal(1, exitCode);
        Assert.Contains("Unavailable", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:7100", "http://127.0.0.1:7100/")]
    [InlineData("http://kv-0.kv-peers:7100", "http://127.0.0.1:7100/")]
    [InlineData("http://127.0.0.2:7100", "http://127.0.0.2:7100/")]
    public void TheProbe_DialsLoopbackWhereTheNodeBindsAWildcardOrAName(string listen, string probed) =>
        Assert.Equal(probed, HealthProbe.ProbeUrl(new NodeOptions { Listen = new Uri(listen) }).ToString());
}
