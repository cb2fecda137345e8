using Kv.Paxos;

namespace Kv.Benchmarks;

/// <summary>
/// A single-threaded host for a 3-replica group with an in-memory transport: every Ready is "persisted" (counted
/// and dropped), its messages are delivered synchronously through <see cref="Replica.Step"/> in FIFO order, and its
/// chosen commands are "applied" (counted). No disk, no sockets, no serialization: this measures the Paxos core.
/// </summary>
public sealed class PaxosGroupHarness
{
    /// <summary>Replica ids of the group.</summary>
    public static readonly int[] Ids = [1, 2, 3];

    private const int PayloadPoolSize = 4096;
    private const int ClientCount = 16;

    private readonly Replica[] _replicas; // index = id - 1
    private readonly long[] _appliedCommands; // commands applied per replica (from Ready.Chosen)
    private readonly Queue<PaxosMessage> _network = new();
    private readonly ReadOnlyMemory<byte>[] _payloads;
    private readonly long[] _clientSequence = new long[ClientCount];
    private readonly int _compactEverySlots;
    private long _proposed;
    private int _nextPayload;

    /// <summary>Creates the group; call <see cref="Elect"/> before <see cref="CommitBatch"/>.</summary>
    /// <param name="batchCommandsMax">The most commands per slot (1 disables batching).</param>
    /// <param name="inflightSlotsMax">The leader's pipeline window in slots.</param>
    /// <param name="compactEverySlots">The host compacts a replica's log once it has applied this many slots past its snapshot.</param>
    /// <param name="seed">Seeds the replicas' election randomness and the payload sizes.</param>
    public PaxosGroupHarness(int batchCommandsMax, int inflightSlotsMax, int compactEverySlots = 1, int seed = 1)
    {
        var config = new Configuration(Ids);
        _replicas = new Replica[Ids.Length];
        _appliedCommands = new long[Ids.Length];
        foreach (int id in Ids)
        {
            var options = new ReplicaOptions
            {
                ReplicaId = id,
                ElectionTimeoutTicks = 10,
                HeartbeatIntervalTicks = 1, // one heartbeat per tick: followers learn the last batch's chosen slots from it
                InflightSlotsMax = inflightSlotsMax,
                BatchCommandsMax = batchCommandsMax,
            };
            _replicas[id - 1] = new Replica(options, PersistentState.Bootstrap(config), new Random(seed * 31 + id));
        }
        _compactEverySlots = compactEverySlots;
        // Payloads of 16–64 bytes, allocated once and reused: in a real server they come from the network buffer.
        var rng = new Random(seed);
        _payloads = new ReadOnlyMemory<byte>[PayloadPoolSize];
        for (int i = 0; i < _payloads.Length; i++)
        {
            var bytes = new byte[rng.Next(16, 65)];
            rng.NextBytes(bytes);
            _payloads[i] = bytes;
        }
    }

    /// <summary>The replica that leads (set by <see cref="Elect"/>).</summary>
    public Replica Leader { get; private set; } = null!;

    /// <summary>The replicas, by id - 1.</summary>
    public IReadOnlyList<Replica> Replicas => _replicas;

    /// <summary>How many commands were proposed (and, after each <see cref="CommitBatch"/>, applied everywhere).</summary>
    public long Proposed => _proposed;

    /// <summary>Messages delivered through Step.</summary>
    public long MessagesDelivered { get; private set; }

    /// <summary>Non-empty Readies handled.</summary>
    public long ReadiesHandled { get; private set; }

    /// <summary>Log entries that a real host would have written durably.</summary>
    public long EntriesPersisted { get; private set; }

    /// <summary>Readies that required a synced write (hard state, snapshot or entries).</summary>
    public long SyncedWrites { get; private set; }

    /// <summary>Payload bytes of every applied command, summed over the replicas (a stand-in for applying).</summary>
    public long AppliedPayloadBytes { get; private set; }

    /// <summary>Ticks given to each replica.</summary>
    public long Ticks { get; private set; }

    /// <summary>Ticks all three replicas and delivers messages until one of them leads (replica 1 if it wins).</summary>
    public void Elect(int maxTicks = 1000)
    {
        for (int t = 0; t < maxTicks; t++)
        {
            TickAll();
            Pump();
            var leader = _replicas.FirstOrDefault(r => r.IsLeader);
            if (leader is not null)
            {
                Leader = leader;
                Pump();
                return;
            }
        }
        throw new InvalidOperationException($"No leader after {maxTicks} ticks.");
    }

    /// <summary>
    /// Proposes <paramref name="count"/> commands at the leader, then pumps Readies and messages until every command
    /// is applied on all three replicas. Each call ticks every replica once (the tick's heartbeat tells the
    /// followers which of the last slots were chosen), so heartbeats are part of the measured cost.
    /// </summary>
    public void CommitBatch(int count)
    {
        var leader = Leader;
        for (int i = 0; i < count; i++)
        {
            int client = i % ClientCount;
            var command = new Command(client + 1, ++_clientSequence[client], _payloads[_nextPayload]);
            _nextPayload = (_nextPayload + 1) % _payloads.Length;
            if (leader.Propose(command) != RequestStatus.Accepted)
                throw new InvalidOperationException($"Proposal refused by replica {leader.Id} (role {leader.Role}).");
        }
        long target = _proposed + count;
        _proposed = target;
        Pump(); // Phase 2 round(s): chosen at the leader once a follower has accepted
        int rounds = 0;
        do
        {
            TickAll(); // heartbeat: followers learn the slots chosen in the last round
            Pump();
            if (++rounds > 100)
                throw new InvalidOperationException($"Not applied everywhere after {rounds} ticks: {string.Join(", ", _appliedCommands)} of {target}.");
        }
        while (!AllApplied(target));
        CompactIfDue();
    }

    private bool AllApplied(long target)
    {
        foreach (long applied in _appliedCommands)
            if (applied < target) return false;
        return true;
    }

    private void TickAll()
    {
        foreach (var r in _replicas) r.Tick();
        Ticks++;
    }

    /// <summary>Handles every replica's Ready, then delivers the messages, until nothing moves.</summary>
    private void Pump()
    {
        bool moved;
        do
        {
            moved = false;
            for (int i = 0; i < _replicas.Length; i++)
            {
                var ready = _replicas[i].TakeReady();
                if (ready.IsEmpty) continue;
                moved = true;
                Handle(i, ready);
            }
            while (_network.TryDequeue(out var m))
            {
                _replicas[m.To - 1].Step(m);
                MessagesDelivered++;
            }
        }
        while (moved);
    }

    private void Handle(int index, Ready ready)
    {
        ReadiesHandled++;
        // 1. persist: nothing to write here, only counted
        if (ready.MustSync) SyncedWrites++;
        EntriesPersisted += ready.Entries.Count;
        _replicas[index].Persisted(ready.Sequence); // a leader counts its own acceptance once its write is reported
        // 2. send
        foreach (var m in ready.Messages) _network.Enqueue(m);
        // 3. apply
        long applied = 0;
        var chosenList = ready.Chosen;
        for (int c = 0; c < chosenList.Count; c++)
        {
            var commands = chosenList[c].Value.Commands;
            for (int k = 0; k < commands.Count; k++)
                AppliedPayloadBytes += commands[k].Payload.Length; // stands in for the state machine touching the command
            applied += commands.Count;
        }
        _appliedCommands[index] += applied;
    }

    /// <summary>
    /// What a host does to bound memory: snapshot (empty here) and truncate the log below the applied index. By default
    /// after every round, so that no batch outlives its round and the GC sees only short-lived garbage.
    /// </summary>
    private void CompactIfDue()
    {
        bool compacted = false;
        foreach (var r in _replicas)
        {
            if (r.AppliedUpTo - r.SnapshotIndex < _compactEverySlots) continue;
            r.Compact(r.AppliedUpTo, ReadOnlyMemory<byte>.Empty);
            compacted = true;
        }
        if (compacted) Pump(); // the snapshots come out in the next Readies, to be "persisted"
    }
}
