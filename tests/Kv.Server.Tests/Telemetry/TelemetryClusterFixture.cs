using Kv.Server.Tests.Node;
using Kv.Server.Tests.Txn;

namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// A 3-node in-process cluster with a metrics endpoint on each node (free ports), after <see cref="Puts"/> puts and
/// one Paxos-commit transaction coordinated by node 2. Shared by the telemetry tests, which only read from it (the
/// tracing test adds one put of its own).
/// </summary>
public sealed class TelemetryClusterFixture : IAsyncLifetime
{
    public const int Puts = 20;

    private readonly List<int> _metricsPorts = InProcessCluster.FreePorts(3);
    private InProcessCluster? _cluster;

    internal InProcessCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public Uri MetricsUrl(int node) => new($"http://127.0.0.1:{_metricsPorts[node - 1]}/metrics");

    public Uri HealthUrl(int node) => new($"http://127.0.0.1:{_metricsPorts[node - 1]}/healthz");

    internal Task<PrometheusScrape> ScrapeAsync(int node) => PrometheusScrape.FetchAsync(Http, MetricsUrl(node));

    public async Task InitializeAsync()
    {
        _cluster = await InProcessCluster.StartAsync(o => o with { MetricsListen = new Uri($"http://127.0.0.1:{_metricsPorts[o.NodeId - 1]}") });
        for (int i = 0; i < Puts; i++) await _cluster.PutAsync($"metrics-{i:D3}", "v");
        var txn = await TxnDriver.BeginAsync(_cluster, node: 2);
        txn.Put("metrics-txn-a", "1");
        txn.Put("metrics-txn-b", "2");
        Assert.NotNull(await txn.CommitAsync(Kv.Proto.V1.CommitProtocol.Paxos, node: 2));
        Snapshot = await _cluster.Node(2).Snapshots.CreateAsync("metrics-snapshot", CancellationToken.None);
    }

    /// <summary>The snapshot node 2 took after the puts and the transaction.</summary>
    internal Kv.Proto.V1.SnapshotManifest? Snapshot { get; private set; }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
