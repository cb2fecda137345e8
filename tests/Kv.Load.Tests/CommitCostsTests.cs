namespace Kv.Load.Tests;

public class CommitCostsTests
{
    // The shape of a node's page (OpenTelemetry's Prometheus exporter): HELP/TYPE lines, a histogram's buckets, sum and
    // count, counters by label, and a label value with an escaped quote.
    private static string Page(int messagesTo2, int messagesTo3, int fsyncs, int fsyncWrites, int proposals, int paxosCommitted,
        int twoPhaseCommitted, int twoPhaseConflicts) => $$"""
        # HELP target_info Target metadata
        # TYPE target_info gauge
        target_info{service_name="kv-server",service_instance_id="1",note="say \"hi\"\n"} 1
        # TYPE kv_peer_messages_sent_total counter
        kv_peer_messages_sent_total{peer_node="2",instance="n1",job="kv"} {{messagesTo2}} 1764226000000
        kv_peer_messages_sent_total{peer_node="3",instance="n1",job="kv"} {{messagesTo3}}
        # TYPE kv_storage_fsync_duration_seconds histogram
        kv_storage_fsync_duration_seconds_bucket{le="0.001"} {{fsyncs / 2}}
        kv_storage_fsync_duration_seconds_bucket{le="+Inf"} {{fsyncs}}
        kv_storage_fsync_duration_seconds_sum 0.25
        kv_storage_fsync_duration_seconds_count {{fsyncs}}
        kv_storage_fsync_writes_sum {{fsyncWrites}}
        kv_storage_fsync_writes_count {{fsyncs}}
        kv_paxos_proposals_total{range_id="2"} {{proposals - 1}}
        kv_paxos_proposals_total{range_id="3"} 1
        kv_txn_commits_total{protocol="paxos",outcome="committed"} {{paxosCommitted}}
        kv_txn_commits_total{protocol="two_phase",outcome="committed"} {{twoPhaseCommitted}}
        kv_txn_commits_total{protocol="two_phase",outcome="conflict"} {{twoPhaseConflicts}}
        kv_paxos_commit_duration_seconds_sum NaN

        """;

    [Fact]
    public void Parser_reads_labels_values_timestamps_and_special_numbers()
    {
        var scrape = MetricsScrape.Parse(Page(10, 20, 8, 12, 5, 3, 4, 1));
        var info = Assert.Single(scrape.Samples, s => s.Name == "target_info");
        Assert.Equal("say \"hi\"\n", info.Labels["note"]);
        Assert.Equal("kv-server", info.Labels["service_name"]);
        Assert.Equal(30, scrape.Sum(CommitCosts.PeerMessagesMetric));
        Assert.Equal(20, scrape.Sum(CommitCosts.PeerMessagesMetric, ("peer_node", "3")));
        Assert.Equal(8, scrape.Sum("kv_storage_fsync_duration_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(5, scrape.Sum(CommitCosts.ProposalsMetric));
        Assert.Equal(5, scrape.Sum(CommitCosts.TxnCommitsMetric, ("protocol", "two_phase")));
        Assert.Equal(0, scrape.Sum("kv_no_such_metric"));
        Assert.True(double.IsNaN(scrape.Sum("kv_paxos_commit_duration_seconds_sum")));
    }

    [Theory]
    [InlineData("kv_x{peer_node=\"2\" 1")]
    [InlineData("kv_x{peer_node=2} 1")]
    [InlineData("kv_x one")]
    [InlineData("kv_x 1 2 3")]
    public void Parser_names_the_line_that_is_not_a_sample(string bad)
    {
        var e = Assert.Throws<FormatException>(() => MetricsScrape.Parse("# TYPE kv_x counter\nkv_y 1\n" + bad + "\n"));
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Costs_are_the_deltas_summed_over_the_nodes_and_divided_by_commits()
    {
        var before = new[] { Page(10, 20, 8, 12, 5, 3, 4, 1), Page(0, 0, 1, 1, 1, 0, 0, 0) }.Select(MetricsScrape.Parse).ToList();
        var after = new[] { Page(30, 45, 20, 30, 15, 7, 4, 2), Page(5, 5, 4, 7, 1, 1, 0, 0) }.Select(MetricsScrape.Parse).ToList();

        var costs = CommitCosts.Between(before, after);

        Assert.Equal(new CommitCosts(PeerMessages: 20 + 25 + 5 + 5, Fsyncs: 12 + 3, FsyncWrites: 18 + 6, Proposals: 10 + 0,
            TxnCommittedPaxos: 4 + 1, TxnCommittedTwoPhase: 0, TxnNotCommitted: 1), costs);
        var perCommit = costs.PerCommit(costs.TxnCommittedPaxos);
        Assert.Equal(11, perCommit.PeerMessages);
        Assert.Equal(3, perCommit.Fsyncs);
        Assert.Equal(2, perCommit.Proposals);
        Assert.Equal("x_peer_messages=11 x_fsyncs=3 x_fsync_writes=4.8 x_proposals=2", perCommit.Fields("x_"));
    }

    [Fact]
    public void The_idle_background_is_scaled_to_the_window_and_subtracted()
    {
        var idle = new CommitCosts(PeerMessages: 40, Fsyncs: 2, FsyncWrites: 2, Proposals: 0, 0, 0, 0);
        var run = new CommitCosts(PeerMessages: 1_100, Fsyncs: 300, FsyncWrites: 300, Proposals: 100, 100, 0, 0);

        var background = idle.Background(idleSeconds: 4, seconds: 10);
        var net = run.Plus(background, -1).PerCommit(100);

        Assert.Equal(100, background.PeerMessages);
        Assert.Equal(10, net.PeerMessages);
        Assert.Equal(2.95, net.Fsyncs, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => idle.Background(0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => run.PerCommit(0));
    }

    [Fact]
    public void A_counter_that_went_down_is_a_restart_not_a_negative_cost()
    {
        var before = new[] { MetricsScrape.Parse(Page(10, 20, 8, 12, 5, 3, 4, 1)) };
        var after = new[] { MetricsScrape.Parse(Page(1, 1, 1, 1, 1, 0, 0, 0)) };
        var e = Assert.Throws<InvalidOperationException>(() => CommitCosts.Between(before, after));
        Assert.Contains("restarted", e.Message);
        Assert.Throws<ArgumentException>(() => CommitCosts.Between(before, []));
    }
}
