namespace Kv.Paxos;

/// <summary>
/// The acceptor's in-memory log: at most one entry per slot, from <see cref="FirstSlot"/> (the snapshot index)
/// on. Slots may have holes: a slot is filled when an Accept or a chosen value for it arrives.
/// </summary>
internal sealed class SlotLog
{
    private readonly Dictionary<long, LogEntry> _entries = new();

    public SlotLog(long firstSlot) => FirstSlot = firstSlot;

    /// <summary>Slots below this are compacted into the snapshot.</summary>
    public long FirstSlot { get; private set; }

    /// <summary>One past the highest slot holding an entry (at least <see cref="FirstSlot"/>).</summary>
    public long EndSlot { get; private set; }

    public int Count => _entries.Count;

    public bool TryGet(long slot, out LogEntry entry) => _entries.TryGetValue(slot, out entry);

    public void Put(LogEntry entry)
    {
        if (entry.Slot < FirstSlot) throw new InvalidOperationException($"Slot {entry.Slot} is below the log start {FirstSlot}.");
        _entries[entry.Slot] = entry;
        if (entry.Slot >= EndSlot) EndSlot = entry.Slot + 1;
    }

    /// <summary>Drops every slot below <paramref name="slot"/>.</summary>
    public void TruncateBelow(long slot)
    {
        if (slot <= FirstSlot) return;
        if (slot - FirstSlot > _entries.Count * 2L)
        {
            foreach (long s in _entries.Keys.Where(s => s < slot).ToList()) _entries.Remove(s);
        }
        else
        {
            for (long s = FirstSlot; s < slot; s++) _entries.Remove(s);
        }
        FirstSlot = slot;
        if (EndSlot < slot) EndSlot = slot;
    }

    /// <summary>Entries at or above <paramref name="fromSlot"/>, in slot order.</summary>
    public List<LogEntry> From(long fromSlot)
    {
        var result = new List<LogEntry>();
        for (long s = Math.Max(fromSlot, FirstSlot); s < EndSlot; s++)
            if (_entries.TryGetValue(s, out var e)) result.Add(e);
        return result;
    }
}
