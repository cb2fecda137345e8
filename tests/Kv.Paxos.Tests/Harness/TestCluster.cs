using Kv.Paxos;

namespace Kv.Paxos.Tests.Harness;

/// <summary>
/// A hand-driven group for scenario tests: the test decides who ticks, which messages are delivered and which
/// links are cut. Each node keeps a durable image that survives <see cref="Crash"/>; Readies are handled in the
/// documented order (persist, send, apply).
/// </summary>
internal sealed class TestCluster
{
    private readonly Func<int, ReplicaOptions> _options;
    private readonly Dictionary<int, DurableImage> _disks = new();
    private int _seed = 17;

    public TestCluster(int voters, Func<int, ReplicaOptions>? options = null)
    {
        _options = options ?? (id => new ReplicaOptions { ReplicaId = id });
        var config = new Configuration(Enumerable.Range(1, voters));
        foreach (int id in config.Voters) Add(id, PersistentState.Bootstrap(config));
    }

    public Dictionary<int, Replica> Replicas { get; } = new();
    public Dictionary<int, List<ChosenEntry>> Applied { get; } = new();
    public Dictionary<int, List<ReadState>> ReadsReady { get; } = new();
    public Dictionary<int, List<Ready>> Readies { get; } = new();
    public List<PaxosMessage> Network { get; } = [];
    public HashSet<(int From, int To)> Blocked { get; } = [];
    public HashSet<int> Down { get; } = [];
    public long Delivered { get; private set; }

    public void Add(int id, PersistentState state)
    {
        _disks[id] = new DurableImage(state);
        Applied[id] = [];
        ReadsReady[id] = [];
        Readies[id] = [];
        Replicas[id] = new Replica(_options(id), state, new Random(_seed++));
    }

    public Replica this[int id] => Replicas[id];

    public IEnumerable<int> Up => Replicas.Keys.Where(id => !Down.Contains(id)).Order();

    public Replica? Leader => Up.Select(id => Replicas[id]).Where(r => r.IsLeader).MaxBy(r => r.LeaderBallot);

    /// <summary>
    /// Takes and handles every pending Ready of <paramref name="id"/>: write, report durable, send, apply; again while
    /// the report produces more (a leader counting its own durable acceptance).
    /// </summary>
    public void Pump(int id)
    {
        if (Down.Contains(id)) return;
        while (true)
        {
            var ready = Replicas[id].TakeReady();
            if (ready.IsEmpty) return;
            Readies[id].Add(ready);
            _disks[id].Write(ready);
            Replicas[id].Persisted(ready.Sequence);
            Network.AddRange(ready.Messages);
            if (ready.SnapshotToApply is { } s) Applied[id].RemoveAll(e => e.Slot < s.Index);
            Applied[id].AddRange(ready.Chosen);
            ReadsReady[id].AddRange(ready.ReadsReady);
        }
    }

    public void PumpAll()
    {
        foreach (int id in Up) Pump(id);
    }

    /// <summary>Delivers messages (and the messages they cause) until none is left, dropping those on cut links.</summary>
    public void Deliver(int maxMessages = 1_000_000)
    {
        PumpAll();
        int budget = maxMessages;
        while (Network.Count > 0 && budget-- > 0)
        {
            var m = Network[0];
            Network.RemoveAt(0);
            if (Blocked.Contains((m.From, m.To)) || Down.Contains(m.To) || Down.Contains(m.From) || !Replicas.ContainsKey(m.To)) continue;
            Delivered++;
            Replicas[m.To].Step(m);
            Pump(m.To);
        }
    }

    public void Tick(int id, int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            if (Down.Contains(id)) return;
            Replicas[id].Tick();
            Pump(id);
        }
    }

    /// <summary>Ticks every live replica once and delivers everything, <paramref name="rounds"/> times.</summary>
    public void Run(int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            foreach (int id in Up) Tick(id);
            Deliver();
        }
    }

    /// <summary>Runs until some replica leads; returns it.</summary>
    public Replica ElectLeader(int maxRounds = 500)
    {
        for (int i = 0; i < maxRounds; i++)
        {
            if (Leader is { } l) return l;
            Run(1);
        }
        throw new InvalidOperationException("No leader was elected.");
    }

    /// <summary>Cuts every link between <paramref name="id"/> and the others, both ways.</summary>
    public void Isolate(int id)
    {
        foreach (int other in Replicas.Keys.Where(o => o != id))
        {
            Blocked.Add((id, other));
            Blocked.Add((other, id));
        }
    }

    public void Heal() => Blocked.Clear();

    public void Crash(int id)
    {
        Down.Add(id);
        Network.RemoveAll(m => m.From == id || m.To == id);
    }

    public void Restart(int id)
    {
        Down.Remove(id);
        var state = _disks[id].Read();
        Applied[id] = [];
        Replicas[id] = new Replica(_options(id), state, new Random(_seed++));
    }

    public PersistentState DurableState(int id) => _disks[id].Read();

    /// <summary>The commands applied by <paramref name="id"/>, in order.</summary>
    public List<Command> Commands(int id) => Applied[id].SelectMany(e => e.Value.Commands).ToList();

    public static Command Cmd(long client, long seq, string payload = "x") =>
        new(client, seq, System.Text.Encoding.UTF8.GetBytes(payload));

    private sealed class DurableImage(PersistentState initial)
    {
        private HardState _hard = initial.HardState;
        private Snapshot _snapshot = initial.Snapshot;
        private readonly SortedDictionary<long, LogEntry> _entries = new(initial.Entries.ToDictionary(e => e.Slot));

        public void Write(Ready ready)
        {
            if (ready.Snapshot is { } s && (s.Index > _snapshot.Index || _snapshot.Configurations.Count == 0))
            {
                _snapshot = s;
                foreach (long k in _entries.Keys.Where(k => k < s.Index).ToList()) _entries.Remove(k);
            }
            foreach (var e in ready.Entries) if (e.Slot >= _snapshot.Index) _entries[e.Slot] = e;
            if (ready.HardState is { } h) _hard = h;
        }

        public PersistentState Read() => new(_hard, _snapshot, _entries.Values.ToList());
    }
}
