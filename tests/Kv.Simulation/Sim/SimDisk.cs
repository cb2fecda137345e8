using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>
/// One node's durable storage. What a completed sync wrote survives a crash; unsynced writes (a Ready whose only
/// write is a chosen-prefix advance) sit in the log in order and become durable with the next sync, and a crash
/// keeps any prefix of them, as RocksDB's point-in-time WAL recovery does. The host decides when a Ready's writes
/// are synced (see <see cref="SimNode"/>).
/// </summary>
public sealed class SimDisk
{
    private readonly SortedDictionary<long, LogEntry> _entries = new();
    private readonly List<Ready> _unsynced = [];

    public SimDisk(PersistentState initial)
    {
        HardState = initial.HardState;
        Snapshot = initial.Snapshot;
        foreach (var e in initial.Entries) _entries[e.Slot] = e;
    }

    public HardState HardState { get; private set; }
    public Snapshot Snapshot { get; private set; }
    public long Syncs { get; private set; }

    /// <summary>Appends a Ready's writes to the log without a sync: durable only with the next <see cref="Write"/>.</summary>
    public void WriteUnsynced(Ready ready) => _unsynced.Add(ready);

    /// <summary>A crash: the first <paramref name="kept"/> unsynced writes reached the disk, the rest are lost.</summary>
    public void Crash(int kept)
    {
        for (int i = 0; i < Math.Min(kept, _unsynced.Count); i++) Apply(_unsynced[i]);
        _unsynced.Clear();
    }

    /// <summary>How many unsynced writes a crash may lose.</summary>
    public int UnsyncedCount => _unsynced.Count;

    /// <summary>Makes one Ready's writes durable, atomically, with every unsynced write before it.</summary>
    public void Write(Ready ready)
    {
        foreach (var earlier in _unsynced) Apply(earlier);
        _unsynced.Clear();
        Apply(ready);
        Syncs++;
    }

    private void Apply(Ready ready)
    {
        if (ready.Snapshot is { } s && (s.Index > Snapshot.Index || Snapshot.Configurations.Count == 0))
        {
            Snapshot = s;
            foreach (long slot in _entries.Keys.Where(k => k < Snapshot.Index).ToList()) _entries.Remove(slot);
        }
        foreach (var e in ready.Entries)
            if (e.Slot >= Snapshot.Index) _entries[e.Slot] = e;
        if (ready.HardState is { } h) HardState = h;
    }

    public PersistentState Read() => new(HardState, Snapshot, _entries.Values.ToList());
}
