namespace Kv.Paxos;

/// <summary>One configuration and the first slot it governs.</summary>
/// <param name="FromSlot">The first slot this configuration governs.</param>
/// <param name="DecidedAtSlot">The slot whose chosen membership change produced it (-1 for the genesis configuration).</param>
/// <param name="Configuration">The members.</param>
public sealed record ConfigHistoryEntry(long FromSlot, long DecidedAtSlot, Configuration Configuration);

/// <summary>
/// Which configuration governs each slot. A membership change chosen at slot s takes effect at s + α, where α
/// is the leader's pipeline window, so a leader always knows the configuration of every slot it may propose in
/// (PAXOS.md §6). Derived from chosen values in slot order; snapshots carry the part they still need.
/// </summary>
public sealed class ConfigHistory
{
    private readonly List<ConfigHistoryEntry> _entries;

    /// <summary>Starts from the entries of a snapshot (or the genesis configuration).</summary>
    public ConfigHistory(IEnumerable<ConfigHistoryEntry> entries)
    {
        _entries = entries.OrderBy(e => e.FromSlot).ToList();
        if (_entries.Count == 0) throw new ArgumentException("A configuration history needs a first configuration.", nameof(entries));
    }

    /// <summary>The configuration produced by the latest chosen change (the base for the next change).</summary>
    public Configuration Latest => _entries[^1].Configuration;

    /// <summary>The first slot of the latest configuration.</summary>
    public long LatestFromSlot => _entries[^1].FromSlot;

    /// <summary>The configuration that governs <paramref name="slot"/>.</summary>
    public Configuration At(long slot)
    {
        for (int i = _entries.Count - 1; i > 0; i--)
            if (_entries[i].FromSlot <= slot) return _entries[i].Configuration;
        return _entries[0].Configuration;
    }

    /// <summary>Every configuration that governs some slot at or after <paramref name="slot"/>.</summary>
    public IEnumerable<Configuration> From(long slot)
    {
        yield return At(slot);
        foreach (var e in _entries)
            if (e.FromSlot > slot) yield return e.Configuration;
    }

    /// <summary>Records the membership change chosen at <paramref name="slot"/>.</summary>
    public void Record(long slot, MembershipChange change, int effectDelaySlots)
    {
        var next = Latest.Apply(change);
        if (!next.Equals(Latest)) _entries.Add(new ConfigHistoryEntry(slot + effectDelaySlots, slot, next));
    }

    /// <summary>
    /// The entries a snapshot covering slots below <paramref name="index"/> must carry: the one in force at
    /// <paramref name="index"/> and those decided below it that take effect later.
    /// </summary>
    public IReadOnlyList<ConfigHistoryEntry> ForSnapshot(long index)
    {
        var result = new List<ConfigHistoryEntry>();
        for (int i = 0; i < _entries.Count; i++)
        {
            var e = _entries[i];
            if (e.DecidedAtSlot >= index) break;
            bool supersededBeforeIndex = i + 1 < _entries.Count && _entries[i + 1].FromSlot <= index && _entries[i + 1].DecidedAtSlot < index;
            if (!supersededBeforeIndex) result.Add(e);
        }
        return result;
    }

    /// <summary>All entries, oldest first.</summary>
    public IReadOnlyList<ConfigHistoryEntry> Entries => _entries;
}
