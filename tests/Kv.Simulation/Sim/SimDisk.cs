using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>
/// One node's durable storage. Only what a completed sync wrote survives a crash; the host decides when a
/// Ready's writes are synced (see <see cref="SimNode"/>).
/// </summary>
public sealed class SimDisk
{
    private readonly SortedDictionary<long, LogEntry> _entries = new();

    public SimDisk(PersistentState initial)
    {
        HardState = initial.HardState;
        Snapshot = initial.Snapshot;
        foreach (var e in initial.Entries) _entries[e.Slot] = e;
    }

    public HardState HardState { get; private set; }
    public Snapshot Snapshot { get; private set; }
    public long Syncs { get; private set; }

    /// <summary>Makes one Ready's writes durable, atomically.</summary>
    public void Write(Ready ready)
    {
        if (ready.Snapshot is { } s && (s.Index > Snapshot.Index || Snapshot.Configurations.Count == 0))
        {
            Snapshot = s;
            foreach (long slot in _entries.Keys.Where(k => k < Snapshot.Index).ToList()) _entries.Remove(slot);
        }
        foreach (var e in ready.Entries)
            if (e.Slot >= Snapshot.Index) _entries[e.Slot] = e;
        if (ready.HardState is { } h) HardState = h;
        Syncs++;
    }

    public PersistentState Read() => new(HardState, Snapshot, _entries.Values.ToList());
}
