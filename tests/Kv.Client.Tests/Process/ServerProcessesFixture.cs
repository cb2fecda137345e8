namespace Kv.Client.Tests.Process;

/// <summary>
/// Three server processes shared by the non-destructive tests of a class (started once, ≈ 1–3 s, killed at the end).
/// Tests that kill nodes start clusters of their own (<see cref="ServerProcesses.StartAsync"/>).
/// </summary>
public sealed class ServerProcessesFixture : IAsyncLifetime
{
    private ServerProcesses? _cluster;

    internal ServerProcesses Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public IReadOnlyList<string> Endpoints => Cluster.Endpoints;

    public async Task InitializeAsync()
    {
        _cluster = await ServerProcesses.StartAsync(TimeSpan.FromSeconds(30));
        try
        {
            // Serving once a write goes through: the client waits out the first election with its retries.
            await using var client = ClusterFixture.NewClient(Endpoints);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.PutAsync("\u0001probe", "ok", cts.Token);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"the server processes did not serve a write:\n{_cluster.Logs()}", e);
        }
    }

    public Task DisposeAsync()
    {
        _cluster?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The process tests run alone (not beside the in-process clusters), so that timings do not depend on other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerProcessesCollection : ICollectionFixture<ServerProcessesFixture>
{
    public const string Name = "server processes";
}
