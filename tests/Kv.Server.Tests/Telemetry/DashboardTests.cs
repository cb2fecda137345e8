namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// The Grafana dashboard in deploy/grafana names only metrics a node really exports: its PromQL expressions are
/// compared with a scrape of the running cluster (after puts and a transaction, so every series exists).
/// </summary>
public sealed class DashboardTests(TelemetryClusterFixture fixture) : IClassFixture<TelemetryClusterFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task Dashboard_UsesOnlyExportedMetricNames()
    {
        string json = await File.ReadAllTextAsync(DashboardMetricCheck.DashboardPath());
        var exported = await ExportedNamesAsync();
        // The dashboard covers every layer: a check over a handful of names would prove little.
        Assert.True(DashboardMetricCheck.MetricNames(DashboardMetricCheck.Expressions(json)).Count >= 15);
        Assert.Empty(DashboardMetricCheck.UnknownMetrics(json, exported));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_CatchesAMisspelledMetric()
    {
        string json = await File.ReadAllTextAsync(DashboardMetricCheck.DashboardPath());
        Assert.Contains("kv_paxos_proposals_total", json, StringComparison.Ordinal);
        string broken = json.Replace("kv_paxos_proposals_total", "kv_paxos_proposal_total", StringComparison.Ordinal);
        Assert.Equal(["kv_paxos_proposal_total"], DashboardMetricCheck.UnknownMetrics(broken, await ExportedNamesAsync()));
    }

    [Fact]
    public void Check_CatchesAMetricMissingFromTheScrape()
    {
        const string dashboard = """{"panels":[{"targets":[{"expr":"rate(kv_a_total[1m]) / on (range_id) kv_b"}]}]}""";
        Assert.Equal(["kv_b"], DashboardMetricCheck.UnknownMetrics(dashboard, new HashSet<string> { "kv_a_total" }));
    }

    private async Task<IReadOnlySet<string>> ExportedNamesAsync()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int node = 1; node <= 3; node++) names.UnionWith((await fixture.ScrapeAsync(node)).Names);
        return names;
    }
}
