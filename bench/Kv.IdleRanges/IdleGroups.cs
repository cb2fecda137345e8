using Kv.Paxos;

namespace Kv.IdleRanges;

/// <summary>
/// Many 3-replica Paxos groups in one thread, laid out as three nodes would host them (node n holds replica n of
/// every group), with the server's default timing and an in-memory transport: no disk, no sockets, no host loop.
/// What a tick of idle groups costs the Paxos core alone, to compare with what a whole node costs.
/// </summary>
internal sealed class IdleGroups
{
    public const int Nodes = 3;
    private readonly Replica[][] _replicas; // [node - 1][group]
    private readonly Queue<(int Group, PaxosMessage Message)> _network = new();
    private readonly List<(int Node, int Group)> _stepped = [];

    public IdleGroups(int groups, int seed)
    {
        var config = new Configuration([1, 2, 3]);
        _replicas = new Replica[Nodes][];
        for (int n = 0; n < Nodes; n++)
        {
            // Kv.Server's defaults (NodeOptions): heartbeat every 10 ticks, election timeout 100 ticks.
            var options = new ReplicaOptions { ReplicaId = n + 1, ElectionTimeoutTicks = 100, HeartbeatIntervalTicks = 10, ClockDriftBound = 0.1 };
            _replicas[n] = new Replica[groups];
            for (int g = 0; g < groups; g++)
                _replicas[n][g] = new Replica(options, PersistentState.Bootstrap(config), new Random(seed + g * Nodes + n));
        }
    }

    public int Groups => _replicas[0].Length;

    /// <summary>Messages delivered through Step so far.</summary>
    public long MessagesDelivered { get; private set; }

    /// <summary>Ticks and pumps until every group has a leader.</summary>
    public void ElectAll(int ticksMax = 2000)
    {
        for (int t = 0; t < ticksMax; t++)
        {
            for (int n = 0; n < Nodes; n++)
            {
                TickNode(n);
                TakeReadies(n);
            }
            Deliver();
            if (LeaderCount() == Groups) return;
        }
        throw new InvalidOperationException($"only {LeaderCount()} of {Groups} groups elected a leader in {ticksMax} ticks");
    }

    public int LeaderCount() => Enumerable.Range(0, Groups).Count(g => Enumerable.Range(0, Nodes).Any(n => _replicas[n][g].IsLeader));

    /// <summary>What the host's tick event does: Tick every replica of the node.</summary>
    public void TickNode(int node)
    {
        foreach (var r in _replicas[node]) r.Tick();
    }

    /// <summary>What the host does after a tick: TakeReady of every replica it ticked; messages go on the wire.</summary>
    public void TakeReadies(int node)
    {
        var replicas = _replicas[node];
        for (int g = 0; g < replicas.Length; g++) Send(g, replicas[g]);
    }

    /// <summary>Delivers every message (Step, then TakeReady of the receiver), answers included, until none is left.</summary>
    public void Deliver()
    {
        while (_network.Count > 0)
        {
            _stepped.Clear();
            while (_network.TryDequeue(out var m))
            {
                _replicas[m.Message.To - 1][m.Group].Step(m.Message);
                _stepped.Add((m.Message.To - 1, m.Group));
                MessagesDelivered++;
            }
            foreach (var (n, g) in _stepped) Send(g, _replicas[n][g]);
        }
    }

    private void Send(int group, Replica replica)
    {
        var ready = replica.TakeReady();
        replica.Persisted(ready.Sequence); // nothing is written here: durable at once (a leader then counts itself)
        foreach (var m in ready.Messages) _network.Enqueue((group, m));
    }
}
