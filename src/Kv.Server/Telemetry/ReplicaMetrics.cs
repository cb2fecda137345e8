using System.Diagnostics.Metrics;
using Kv.Paxos;
using Kv.Server.Replication;

namespace Kv.Server.Telemetry;

/// <summary>
/// The replica host's instruments, on the meter <see cref="MeterName"/> (docs/observability.md lists them). Counters
/// are fed by <see cref="ReplicaHost"/> from what the Paxos cores' Readies and status say (the core itself knows
/// nothing of metrics); gauges read the hosted replicas when an exporter collects.
/// <para>
/// Cardinality: per-range series carry one tag, <c>range_id</c>. Gauges report at most
/// <see cref="RangesWithSeriesMax"/> ranges (the lowest ids); node totals (<c>kv.node.ranges</c>) always cover all.
/// Counters tagged by range are capped by the exporter's per-metric limit (<see cref="NodeTelemetry"/> sets it), past
/// which new ranges fold into one overflow series.
/// </para>
/// </summary>
public sealed class ReplicaMetrics
{
    /// <summary>The meter's name, for exporters to subscribe to.</summary>
    public const string MeterName = "Kv.Server";

    /// <summary>The most ranges that get per-range gauge series on one node.</summary>
    public const int RangesWithSeriesMax = 1000;

    private static readonly IReadOnlyList<double> SecondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Func<IReadOnlyList<ReplicaStatus>> _replicas;
    private readonly Counter<long> _proposals;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _elections;
    private readonly Counter<long> _leaderChanges;
    private readonly Histogram<double> _commitSeconds;
    // Touched only by the replica loop (ObserveReady and Proposed run on it).
    private readonly Dictionary<ulong, RangeSeen> _seen = [];
    // One reading of the replicas per collection: every gauge callback of one scrape shares it.
    private readonly Lock _readingLock = new();
    private IReadOnlyList<ReplicaStatus>? _reading;
    private long _readingAtMs;

    /// <summary>Creates the instruments; <paramref name="replicas"/> is read when gauges are collected.</summary>
    public ReplicaMetrics(IMeterFactory meterFactory, Func<IReadOnlyList<ReplicaStatus>> replicas)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _replicas = replicas ?? throw new ArgumentNullException(nameof(replicas));
        var meter = meterFactory.Create(MeterName);
        _proposals = meter.CreateCounter<long>("kv.paxos.proposals", "{command}", "Commands this node's replica accepted for proposal as leader.");
        _commits = meter.CreateCounter<long>("kv.paxos.commits", "{command}", "Chosen log entries this node's replica applied.");
        _elections = meter.CreateCounter<long>("kv.paxos.elections", "{election}", "Times this node's replica started campaigning (pre-vote included).");
        _leaderChanges = meter.CreateCounter<long>("kv.paxos.leader_changes", "{change}", "Times this node's replica saw the range's leader change.");
        _commitSeconds = meter.CreateHistogram("kv.paxos.commit.duration", "s",
            "From a proposal handed to this node's replica host until it is chosen and applied here (node-wide, all ranges).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });

        meter.CreateObservableGauge("kv.range.leader", () => PerRange(r => r.IsLeader ? 1L : 0L), "{replica}",
            "1 when this node's replica leads the range, else 0.");
        meter.CreateObservableGauge("kv.paxos.log.entries", () => PerRange(r => (long)r.LogEntries), "{entry}",
            "Log entries the replica holds (since its last snapshot).");
        meter.CreateObservableGauge("kv.paxos.log.bytes", () => PerRange(r => r.LogBytes), "By",
            "Approximate size of the log entries the replica holds in memory (compaction at LogCompactionBytes).");
        meter.CreateObservableGauge("kv.paxos.chosen_slot", () => PerRange(r => r.ChosenPrefix), "{slot}",
            "The replica's chosen prefix: every slot below it is chosen.");
        meter.CreateObservableGauge("kv.paxos.applied_slot", () => PerRange(r => r.AppliedUpTo), "{slot}",
            "Slots the replica's state machine has applied.");
        meter.CreateObservableGauge("kv.range.apply_lag", () => PerRange(r => Math.Max(0, r.ChosenPrefix - r.AppliedUpTo)), "{slot}",
            "Chosen slots not yet applied by the replica's state machine.");
        meter.CreateObservableGauge("kv.txn.in_doubt", () => PerRange(r => (long)r.TxnLocks), "{lock}",
            "Transaction locks (staged, undecided writes) held in the range's replica.");
        meter.CreateObservableGauge("kv.node.ranges", () => NodeTotals(), "{range}",
            "Ranges this node hosts a replica of, by role (leader, follower).");
    }

    /// <summary>A proposal the range's core accepted (called on the replica loop).</summary>
    public void Proposed(ulong rangeId) => _proposals.Add(1, Seen(rangeId).Tag);

    /// <summary>A proposal handed to the host came back chosen and applied after <paramref name="elapsed"/>.</summary>
    public void Committed(TimeSpan elapsed) => _commitSeconds.Record(elapsed.TotalSeconds);

    /// <summary>
    /// Reads what a Ready and the core's state after it say (called on the replica loop for every Ready taken):
    /// entries chosen, a campaign started, the leader changed.
    /// </summary>
    public void ObserveReady(ulong rangeId, Replica core, Ready ready)
    {
        var seen = Seen(rangeId);
        if (ready.Chosen.Count > 0) _commits.Add(ready.Chosen.Count, seen.Tag);
        var role = core.Role;
        // A sole voter wins within one step, so it may go from follower to leader between two Readies.
        bool campaigned = role == ReplicaRole.Candidate || (role == ReplicaRole.Leader && seen.Role == ReplicaRole.Follower);
        if (campaigned && role != seen.Role) _elections.Add(1, seen.Tag);
        seen.Role = role;
        int? leader = core.LeaderHint;
        if (leader is not null && leader != seen.Leader)
        {
            // The first leader a replica learns after it starts is not a change.
            if (seen.Leader is not null) _leaderChanges.Add(1, seen.Tag);
            seen.Leader = leader;
        }
    }

    private RangeSeen Seen(ulong rangeId)
    {
        if (_seen.TryGetValue(rangeId, out var seen)) return seen;
        _seen[rangeId] = seen = new RangeSeen(new KeyValuePair<string, object?>("range_id", rangeId));
        // Every range's counters exist from the start at 0, so that rates and dashboards see them before the first event.
        _elections.Add(0, seen.Tag);
        _leaderChanges.Add(0, seen.Tag);
        return seen;
    }

    private IReadOnlyList<ReplicaStatus> Reading()
    {
        lock (_readingLock)
        {
            long now = Environment.TickCount64;
            if (_reading is null || now - _readingAtMs > 500)
            {
                _reading = _replicas();
                _readingAtMs = now;
            }
            return _reading;
        }
    }

    private IEnumerable<Measurement<long>> PerRange(Func<ReplicaStatus, long> value) =>
        Reading().Take(RangesWithSeriesMax).Select(r => new Measurement<long>(value(r), new KeyValuePair<string, object?>("range_id", r.RangeId)));

    private Measurement<long>[] NodeTotals()
    {
        var all = Reading();
        int led = all.Count(r => r.IsLeader);
        return
        [
            new(led, new KeyValuePair<string, object?>("role", "leader")),
            new(all.Count - led, new KeyValuePair<string, object?>("role", "follower")),
        ];
    }

    private sealed class RangeSeen(KeyValuePair<string, object?> tag)
    {
        public KeyValuePair<string, object?> Tag { get; } = tag;
        public ReplicaRole Role { get; set; }
        public int? Leader { get; set; }
    }
}
