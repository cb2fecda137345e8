using System.Globalization;

namespace Kv.Load;

/// <summary>
/// What a cluster did between two scrapes of every node (docs/observability.md names the metrics): Paxos messages
/// sent between nodes, synced writes of the group committers and the writers they carried, proposals accepted by
/// leaders, and transactions coordinated by outcome. Summed over the nodes; per commit by <see cref="PerCommit"/>.
/// </summary>
internal sealed record CommitCosts(double PeerMessages, double Fsyncs, double FsyncWrites, double Proposals,
    double TxnCommittedPaxos, double TxnCommittedTwoPhase, double TxnNotCommitted)
{
    public const string PeerMessagesMetric = "kv_peer_messages_sent_total";
    public const string FsyncsMetric = "kv_storage_fsync_duration_seconds_count";
    public const string FsyncWritesMetric = "kv_storage_fsync_writes_sum";
    public const string ProposalsMetric = "kv_paxos_proposals_total";
    public const string TxnCommitsMetric = "kv_txn_commits_total";

    /// <summary>Zero everywhere.</summary>
    public static readonly CommitCosts None = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>
    /// The cluster's counts from <paramref name="before"/> to <paramref name="after"/> (one scrape per node, the same
    /// nodes in the same order). A counter that went down means the node restarted between them: that is an error,
    /// not a negative cost.
    /// </summary>
    public static CommitCosts Between(IReadOnlyList<MetricsScrape> before, IReadOnlyList<MetricsScrape> after)
    {
        if (before.Count != after.Count || before.Count == 0)
            throw new ArgumentException($"need one scrape per node before and after, the same nodes: got {before.Count} before, {after.Count} after");
        var total = None;
        for (int node = 0; node < before.Count; node++)
        {
            double Delta(string name, params (string, string)[] labels)
            {
                double d = after[node].Sum(name, labels) - before[node].Sum(name, labels);
                if (d < 0)
                    throw new InvalidOperationException($"node {node + 1}'s {name} went down by {-d}: it restarted between the scrapes, so its counts are lost; run again");
                return d;
            }
            double committedPaxos = Delta(TxnCommitsMetric, ("protocol", "paxos"), ("outcome", "committed"));
            double committedTwoPhase = Delta(TxnCommitsMetric, ("protocol", "two_phase"), ("outcome", "committed"));
            total = total.Plus(new CommitCosts(Delta(PeerMessagesMetric), Delta(FsyncsMetric), Delta(FsyncWritesMetric), Delta(ProposalsMetric),
                committedPaxos, committedTwoPhase, Delta(TxnCommitsMetric) - committedPaxos - committedTwoPhase));
        }
        return total;
    }

    /// <summary>Every count plus <paramref name="other"/>'s times <paramref name="scale"/>.</summary>
    public CommitCosts Plus(CommitCosts other, double scale = 1) => new(
        PeerMessages + scale * other.PeerMessages, Fsyncs + scale * other.Fsyncs, FsyncWrites + scale * other.FsyncWrites,
        Proposals + scale * other.Proposals, TxnCommittedPaxos + scale * other.TxnCommittedPaxos,
        TxnCommittedTwoPhase + scale * other.TxnCommittedTwoPhase, TxnNotCommitted + scale * other.TxnNotCommitted);

    /// <summary>The background a cluster does with no load (heartbeats, liveness) over <paramref name="seconds"/>, given an idle window's counts over <paramref name="idleSeconds"/>.</summary>
    public CommitCosts Background(double idleSeconds, double seconds) =>
        idleSeconds > 0 ? None.Plus(this, seconds / idleSeconds) : throw new ArgumentOutOfRangeException(nameof(idleSeconds), "the idle window must last more than 0 s");

    /// <summary>The resource counts divided by <paramref name="commits"/> (the transaction counts are left as they are).</summary>
    public CommitCosts PerCommit(double commits) => commits > 0
        ? this with { PeerMessages = PeerMessages / commits, Fsyncs = Fsyncs / commits, FsyncWrites = FsyncWrites / commits, Proposals = Proposals / commits }
        : throw new ArgumentOutOfRangeException(nameof(commits), "no commit to divide by: the run committed nothing");

    /// <summary>name=value pairs, each name prefixed by <paramref name="prefix"/>.</summary>
    public string Fields(string prefix) => string.Create(CultureInfo.InvariantCulture,
        $"{prefix}peer_messages={PeerMessages:0.##} {prefix}fsyncs={Fsyncs:0.##} {prefix}fsync_writes={FsyncWrites:0.##} {prefix}proposals={Proposals:0.##}");
}
