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

    /// <summary>
    /// The entries' approximate size (<see cref="SlotValue.SizeBytes"/> summed): under load a slot carries many
    /// commands, so the entry count alone says little about the memory the log holds.
    /// </summary>
    public long Bytes { get; private set; }

    public bool TryGet(long slot, out LogEntry entry) => _entries.TryGetValue(slot, out entry);

    public void Put(LogEntry entry)
    {
        if (entry.Slot < FirstSlot) throw new InvalidOperationException($"Slot {entry.Slot} is below the log start {FirstSlot}.");
        if (_entries.TryGetValue(entry.Slot, out var replaced)) Bytes -= replaced.Value.SizeBytes;
        _entries[entry.Slot] = entry;
        Bytes += entry.Value.SizeBytes;
        if (entry.Slot >= EndSlot) EndSlot = entry.Slot + 1;
    }

    /// <summary>Drops every slot below <paramref name="slot"/>.</summary>
    public void TruncateBelow(long slot)
    {
        if (slot <= FirstSlot) return;
        if (slot - FirstSlot > _entries.Count * 2L)
        {
            foreach (long s in _entries.Keys.Where(s => s < slot).ToList()) Remove(s);
        }
        else
        {
            for (long s = FirstSlot; s < slot; s++) Remove(s);
        }
        FirstSlot = slot;
        if (EndSlot < slot) EndSlot = slot;
    }

    private void Remove(long slot)
    {
        if (_entries.Remove(slot, out var removed)) Bytes -= removed.Value.SizeBytes;
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
