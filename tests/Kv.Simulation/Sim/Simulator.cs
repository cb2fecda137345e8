using System.Text;
using Kv.Paxos;
using Kv.Simulation.Checking;

namespace Kv.Simulation.Sim;

/// <summary>
/// Runs the real <see cref="Replica"/> code of a whole group in simulated time, single-threaded and fully
/// determined by the seed: simulated network (loss, duplication, delay, reordering, partitions), disks that
/// lose unsynced writes on a crash, drifting clocks, and clients. The checkers run on the way and at the end.
/// </summary>
public sealed partial class Simulator
{
    private readonly long _seed;
    private readonly SimulationProfile _p;
    private readonly Random _rng;
    private readonly PriorityQueue<Action, (long Time, long Order)> _events = new();
    private readonly Dictionary<int, SimNode> _nodes = new();
    private readonly List<SimClient> _clients = [];
    private readonly List<KvOperation> _history = [];
    private readonly AgreementChecker _agreement;
    private readonly StringBuilder? _trace;
    private readonly FaultCounts _faults = new();
    private long _order;
    private long _now;
    private bool _healed;

    public Simulator(long seed, SimulationProfile profile, bool trace = false)
    {
        _seed = seed;
        _p = profile;
        _rng = new Random(unchecked((int)seed ^ (int)(seed >> 32) ^ 0x5bd1e995));
        _trace = trace ? new StringBuilder() : null;
        var initial = new Configuration(Enumerable.Range(1, profile.Replicas));
        _agreement = new AgreementChecker(initial, profile.InflightSlotsMax);
        foreach (int id in initial.Voters) _nodes[id] = new SimNode(id, PersistentState.Bootstrap(initial));
    }

    private const long EventsMax = 20_000_000;

    /// <summary>Runs the whole scenario and all checks.</summary>
    public SimulationResult Run()
    {
        foreach (var node in _nodes.Values) StartNode(node);
        for (int c = 0; c < _p.Clients; c++)
        {
            var client = new SimClient(1000 + c) { Target = 1 + _rng.Next(_p.Replicas) };
            _clients.Add(client);
            At(_rng.NextInt64(1_000, 20_000), () => StartOperation(client));
        }
        ScheduleFaults();
        if (_p.MembershipChanges) ScheduleMembershipChanges();
        At(_p.FaultPhaseUs, Heal);
        long end = _p.FaultPhaseUs + _p.LivenessBoundUs;
        bool live = false;
        At(_p.FaultPhaseUs, () => StartProbe());
        long events = 0;
        while (_events.TryDequeue(out var action, out var when))
        {
            if (when.Time > end) break;
            _now = when.Time;
            action();
            // A run is a few hundred thousand events; millions mean a storm (a loop of messages or events), which
            // would otherwise hang the soak instead of failing the seed.
            if (++events > EventsMax)
            {
                _agreement.Violations.Add($"STORM: more than {EventsMax} events by {_now} µs; {DescribeNodes()}");
                break;
            }
            if (_agreement.Violations.Count > 0) break;
            if (_probeDone && Converged())
            {
                live = true;
                break;
            }
        }
        // Writes still in flight when the run ends may or may not take effect.
        foreach (var c in _clients.Where(c => c.Busy && c.IsWrite))
            _history.Add(new KvOperation(c.Id, c.Key, KvOperationKind.Write, c.Value, c.InvokeUs, null));
        var violations = new List<string>(_agreement.Violations);
        if (violations.Count == 0 && !live)
            violations.Add($"LIVENESS: no progress within {_p.LivenessBoundUs / 1000} ms after healing (probe done: {_probeDone}, converged: {Converged()}); {DescribeNodes()}");
        if (violations.Count == 0)
        {
            var lin = LinearizabilityChecker.Check(_history);
            if (lin.Outcome == LinearizabilityOutcome.NotLinearizable)
                violations.Add($"LINEARIZABILITY: {lin.Explanation}");
            _faults.LinearizabilityUnknown += lin.Outcome == LinearizabilityOutcome.Unknown ? 1 : 0;
        }
        _faults.Operations = _history.Count;
        _faults.ChosenSlots = _agreement.ChosenSlots;
        return new SimulationResult(_seed, violations, _faults, _trace?.ToString(), _now, _history);
    }

    internal string? TraceText => _trace?.ToString();

    private void At(long time, Action action) => _events.Enqueue(action, (Math.Max(time, _now), _order++));

    private void Trace(string line)
    {
        if (_trace is null) return;
        if (_trace.Length > 40_000_000) return;
        _trace.Append(_now.ToString("D9")).Append(' ').AppendLine(line);
    }

    private string DescribeNodes() => string.Join("; ", _nodes.Values.Select(n => n.Replica is { } r
        ? $"n{n.Id}:{r.Role} prom={r.Promised} chosen={r.ChosenPrefix} applied={n.SmAppliedUpTo} cfg={r.LatestConfiguration}"
        : $"n{n.Id}:down member={n.Member}"));
}

/// <summary>How often each fault was exercised in a run (summed by the soak command).</summary>
public sealed class FaultCounts
{
    public long MessagesSent;
    public long MessagesLost;
    public long MessagesDuplicated;
    public long Partitions;
    public long Crashes;
    public long MembershipChanges;
    public long SnapshotsInstalled;
    public long LeaderChanges;
    public long Operations;
    public long ChosenSlots;
    public long LinearizabilityUnknown;
    public long Quiesced;
    public long WokenByLiveness;
    /// <summary>Messages sent before the write of their Ready was durable (a leader's early Accepts).</summary>
    public long EarlyMessages;

    public void Add(FaultCounts o)
    {
        MessagesSent += o.MessagesSent; MessagesLost += o.MessagesLost; MessagesDuplicated += o.MessagesDuplicated;
        Partitions += o.Partitions; Crashes += o.Crashes; MembershipChanges += o.MembershipChanges;
        SnapshotsInstalled += o.SnapshotsInstalled; LeaderChanges += o.LeaderChanges; Operations += o.Operations;
        ChosenSlots += o.ChosenSlots; LinearizabilityUnknown += o.LinearizabilityUnknown;
        Quiesced += o.Quiesced; WokenByLiveness += o.WokenByLiveness; EarlyMessages += o.EarlyMessages;
    }

    public override string ToString() =>
        $"msgs={MessagesSent} lost={MessagesLost} dup={MessagesDuplicated} partitions={Partitions} crashes={Crashes} " +
        $"membership={MembershipChanges} snapshots={SnapshotsInstalled} leader_changes={LeaderChanges} ops={Operations} chosen_slots={ChosenSlots} " +
        $"quiesced={Quiesced} woken_by_liveness={WokenByLiveness} early={EarlyMessages}";
}

/// <summary>The outcome of one seed.</summary>
public sealed record SimulationResult(long Seed, IReadOnlyList<string> Violations, FaultCounts Faults, string? Trace, long EndUs,
    IReadOnlyList<KvOperation>? History = null)
{
    public bool Passed => Violations.Count == 0;
}
