using Grpc.Net.Client;
using Kv.Client;
using Kv.Deploy.Tests.Manifests;
using Kv.Deploy.Tests.Smoke;
using Kv.Deploy.Tests.Tools;
using Kv.Server.Tests.Process;

namespace Kv.Deploy.Tests;

/// <summary>
/// The image's build output (the Dockerfile's publish, run here) started as pods kv-0..kv-2 with the manifests'
/// environment on loopback: they bootstrap one cluster, serve a put and a get through the client, answer the image's
/// health check, take in kv-3 as a scaled-up pod that joins, and stop cleanly on SIGTERM within the grace period.
/// </summary>
public sealed class LoopbackSmokeTests(DeployFixture deploy, PublishedServerFixture server) : IClassFixture<DeployFixture>, IClassFixture<PublishedServerFixture>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30); // the StatefulSet's terminationGracePeriodSeconds

    [Fact]
    public void TheBuildStage_PublishesTheServerWithRocksDbsNativeLibrary()
    {
        Assert.True(File.Exists(server.ServerDll), server.ServerDll);
        Assert.True(File.Exists(Path.Combine(server.AppDirectory, "librocksdb.so")), "librocksdb.so is missing from the published server");
    }

    [Fact]
    public async Task ThreePodsFromTheManifests_FormOneClusterServeAClientTakeInAFourthAndStopCleanly()
    {
        using var pods = new LoopbackPods(deploy.Yaml, deploy.Image, server.ServerDll, podsMax: 4);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            var initial = new List<NodeProcess>();
            for (int ordinal = 0; ordinal < 3; ordinal++) initial.Add(await pods.StartAsync(ordinal));
            await Task.WhenAll(initial.Select(p => p.WaitUntilServingAsync(StartTimeout)));

            await using (var client = new KvClient([pods.Endpoint(0), pods.Endpoint(1), pods.Endpoint(2)]))
            {
                await client.PutAsync("smoke/greeting", "hello from kv-0..kv-2", cts.Token);
                Assert.Equal("hello from kv-0..kv-2", await client.GetStringAsync("smoke/greeting", cts.Token));
            }

            ToolResult health = await HealthCheckAsync(await pods.EnvironmentAsync(1));
            Assert.True(health.ExitCode == 0, $"the image's health check failed on a serving node: {health}");

            // Scaling up: kv-3 has the same environment, is not in KV_PEERS, and so joins through KV_JOIN.
            NodeProcess fourth = await pods.StartAsync(3);
            await fourth.WaitUntilServingAsync(StartTimeout);
            await WaitUntilRegisteredAsync(pods, nodeId: 4, pods.Endpoint(3), cts.Token);
            await using (var client = new KvClient([pods.Endpoint(3)]))
                Assert.Equal("hello from kv-0..kv-2", await RetryAsync(() => client.GetStringAsync("smoke/greeting", cts.Token), cts.Token));

            foreach (int ordinal in new[] { 3, 2, 1, 0 })
                Assert.Equal(0, await pods.Pod(ordinal).StopAsync(GracePeriod));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\n{pods.Logs()}", e);
        }
    }

    [Fact]
    public async Task TheImagesHealthCheck_FailsWhenNoNodeAnswers()
    {
        // Pods' ports are free ones, and none is started here.
        using var pods = new LoopbackPods(deploy.Yaml, deploy.Image, server.ServerDll, podsMax: 3);

        ToolResult health = await HealthCheckAsync(await pods.EnvironmentAsync(0));

        Assert.True(health.ExitCode == 1, health.ToString());
        Assert.Contains("Unavailable", health.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>The image's HEALTHCHECK command (`dotnet /app/Kv.Server.dll health`) in the pod's environment.</summary>
    private Task<ToolResult> HealthCheckAsync(Dictionary<string, string> environment) =>
        ExternalTool.RunAsync("dotnet", [server.ServerDll, "health"], TimeSpan.FromSeconds(60), environment: environment);

    private static async Task WaitUntilRegisteredAsync(LoopbackPods pods, ulong nodeId, string endpoint, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(pods.Endpoint(0));
        var admin = new Kv.Proto.V1.Admin.AdminClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var nodes = await admin.ListNodesAsync(new Kv.Proto.V1.ListNodesRequest(), cancellationToken: ct);
            if (nodes.Nodes.Any(n => n.NodeId == nodeId && n.Endpoint == endpoint)) return;
            Assert.True(DateTime.UtcNow < deadline, $"node {nodeId} was not registered at {endpoint} within 60 s: {nodes}");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>A joined node answers UNAVAILABLE until the meta range's snapshot reaches it.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (KvException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, ct);
            }
        }
    }
}
