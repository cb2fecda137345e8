namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// Scrapes <c>/metrics</c> of a running 3-node cluster over HTTP/1.1 after puts and a transaction, and checks that
/// the series of every layer (Paxos, storage, transactions) are there with values that match what was done.
/// </summary>
public sealed class MetricsEndpointTests(TelemetryClusterFixture fixture) : IClassFixture<TelemetryClusterFixture>
{
    private const string UserRange = "2";

    [Fact(Timeout = 60_000)]
    public async Task Proposals_And_Commits_CountAtLeastThePuts()
    {
        var scrapes = await ScrapeAllAsync();
        // Whichever node led range 2 accepted the proposals; leadership may have moved, so add up all nodes.
        double proposals = scrapes.Sum(s => s.Sum("kv_paxos_proposals_total", ("range_id", UserRange)));
        Assert.True(proposals >= TelemetryClusterFixture.Puts, $"proposals {proposals}");
        // The node that answered a put had applied it.
        double commitsMax = scrapes.Max(s => s.Sum("kv_paxos_commits_total", ("range_id", UserRange)));
        Assert.True(commitsMax >= TelemetryClusterFixture.Puts, $"commits {commitsMax}");
        double commitLatencies = scrapes.Sum(s => s.Sum("kv_paxos_commit_duration_seconds_count"));
        Assert.True(commitLatencies >= TelemetryClusterFixture.Puts, $"commit latency samples {commitLatencies}");
        // Every range's election counter exists; the cluster elected leaders at start.
        Assert.True(scrapes.Sum(s => s.Sum("kv_paxos_elections_total")) >= 1);
        Assert.All(scrapes, s => Assert.Single(s.Find("kv_paxos_leader_changes_total", ("range_id", UserRange))));
    }

    [Fact(Timeout = 60_000)]
    public async Task LeaderGauge_IsOneOnTheLeaderOnly_AndEachNodeExportsOnlyItsOwnSeries()
    {
        var scrapes = await ScrapeAllAsync();
        var leaders = new List<int>();
        for (int node = 1; node <= 3; node++)
        {
            // Three nodes share this process: a node that exported another node's instruments would show the
            // series three times.
            var sample = Assert.Single(scrapes[node - 1].Find("kv_range_leader", ("range_id", UserRange)));
            Assert.Contains(sample.Value, new[] { 0.0, 1.0 });
            if (sample.Value == 1) leaders.Add(node);
        }
        int leader = Assert.Single(leaders);
        Assert.True(fixture.Cluster.Node(leader).Host.Status(2).IsLeader, $"the gauge says node {leader} leads range 2, its host does not");
        Assert.True(scrapes[leader - 1].Sum("kv_node_ranges", ("role", "leader")) >= 1);
        Assert.All(scrapes, s => Assert.Equal(2, s.Sum("kv_node_ranges"))); // the meta range and range 2
    }

    [Fact(Timeout = 60_000)]
    public async Task LogLength_ApplyLag_AndInDoubt_AreReportedPerRange()
    {
        var scrapes = await ScrapeAllAsync();
        foreach (var s in scrapes)
        {
            var applied = Assert.Single(s.Find("kv_paxos_applied_slot", ("range_id", UserRange))).Value;
            var chosen = Assert.Single(s.Find("kv_paxos_chosen_slot", ("range_id", UserRange))).Value;
            Assert.True(chosen >= applied, $"chosen {chosen} < applied {applied}");
            Assert.True(Assert.Single(s.Find("kv_range_apply_lag", ("range_id", UserRange))).Value >= 0);
            Assert.True(Assert.Single(s.Find("kv_paxos_log_entries", ("range_id", UserRange))).Value >= 0);
            Assert.Single(s.Find("kv_txn_in_doubt", ("range_id", UserRange)));
        }
        // Some node applied every put and the transaction's records.
        Assert.True(scrapes.Max(s => s.Sum("kv_paxos_applied_slot", ("range_id", UserRange))) >= TelemetryClusterFixture.Puts);
    }

    [Fact(Timeout = 60_000)]
    public async Task Storage_FsyncHistograms_HaveSamples()
    {
        foreach (var s in await ScrapeAllAsync())
        {
            Assert.True(s.Sum("kv_storage_fsync_duration_seconds_count") > 0);
            Assert.True(s.Sum("kv_storage_fsync_duration_seconds_sum") > 0);
            Assert.True(s.Sum("kv_storage_fsync_writes_count") > 0);
            Assert.True(s.Sum("kv_storage_fsync_writes_sum") >= s.Sum("kv_storage_fsync_writes_count"), "each sync carries at least one write");
            Assert.True(s.Sum("kv_storage_fsync_size_bytes_sum") > 0);
            Assert.Equal(0, s.Sum("kv_storage_fsync_failures_total"));
            Assert.Single(s.Find("kv_storage_fsync_failures_total"));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Transactions_AreCountedByProtocolAndOutcome_AtTheCoordinator()
    {
        var coordinator = await fixture.ScrapeAsync(2);
        Assert.True(coordinator.Sum("kv_txn_commits_total", ("protocol", "paxos"), ("outcome", "committed")) >= 1);
        Assert.True(coordinator.Sum("kv_txn_commit_duration_seconds_count", ("protocol", "paxos")) >= 1);
        Assert.Equal(0, coordinator.Sum("kv_txn_commits_total", ("protocol", "two_phase")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Snapshots_CreationPiecesAndExportedBytes_AreCountedWhereTheyHappened()
    {
        var manifest = fixture.Snapshot ?? throw new InvalidOperationException("the fixture took no snapshot");
        var coordinator = await fixture.ScrapeAsync(2);
        Assert.Equal(1, coordinator.Sum("kv_snapshot_creates_total", ("outcome", "published")));
        Assert.Equal(0, coordinator.Sum("kv_snapshot_creates_total", ("outcome", "failed")));
        Assert.Equal(1, coordinator.Sum("kv_snapshot_create_duration_seconds_count"));
        Assert.Equal(0, coordinator.Sum("kv_snapshot_creating"));
        Assert.Equal(manifest.Ranges.Count, coordinator.Sum("kv_snapshot_pieces_total"));
        Assert.Equal(0, (await fixture.ScrapeAsync(1)).Sum("kv_snapshot_creates_total"));

        var reader = (Kv.Server.Snapshots.SnapshotReader)fixture.Cluster.Node(2).Services.GetService(typeof(Kv.Server.Snapshots.SnapshotReader))!;
        long exported = 0;
        await foreach (var chunk in reader.ReadAsync(manifest, 2, 100, CancellationToken.None))
            exported += chunk.Entries.Sum(e => (long)e.Key.Length + e.Value.Length);
        Assert.True(exported > 0, "range 2 of the snapshot holds the puts");
        // The exporter caches a scrape for a moment: poll until the export shows, within a bound.
        double before = coordinator.Sum("kv_snapshot_export_bytes_total"), counted = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            counted = (await fixture.ScrapeAsync(2)).Sum("kv_snapshot_export_bytes_total") - before;
            if (counted >= exported) break;
        }
        Assert.Equal(exported, counted);
    }

    [Fact(Timeout = 60_000)]
    public async Task PeerTransport_CountsMessagesPerPeerNode()
    {
        var scrape = await fixture.ScrapeAsync(1);
        Assert.Equal(["2", "3"], scrape.Find("kv_peer_messages_sent_total").Select(s => s.Labels["peer_node"]).Order());
        Assert.All(scrape.Find("kv_peer_messages_sent_total"), s => Assert.True(s.Value > 0));
        Assert.Equal(2, scrape.Find("kv_peer_queue_messages").Count());
        Assert.Equal(2, scrape.Find("kv_peer_messages_dropped_total").Count());
    }

    [Fact(Timeout = 30_000)]
    public async Task Healthz_AnswersOk_OverHttp11()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.HealthUrl(1)) { Version = System.Net.HttpVersion.Version11 };
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(new Version(1, 1), response.Version);
    }

    private async Task<PrometheusScrape[]> ScrapeAllAsync() =>
        [await fixture.ScrapeAsync(1), await fixture.ScrapeAsync(2), await fixture.ScrapeAsync(3)];
}
