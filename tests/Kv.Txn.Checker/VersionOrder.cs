namespace Kv.Txn.Checker;

/// <summary>
/// The inferred order of appends to one key. Lists only grow, so every trusted read must be a prefix of the final
/// list; the longest read is the best-known prefix of it, and reads that are not prefixes of that one are
/// incompatible (reported elsewhere and left out of anti-dependency inference).
/// </summary>
/// <remarks>
/// Elements appended but never read have no known position, with one exception: when exactly one element that may
/// have committed is missing from every read, and its writer did commit, it must come right after the longest read.
/// That one inference is what turns the textbook write skew (both transactions read empty lists) into a visible cycle.
/// </remarks>
internal sealed class VersionOrder
{
    private VersionOrder(ReadOnlyMemory<long> longest, int longestRead, bool[] compatible, long? inferred, HashSet<long> observed)
    {
        Longest = longest;
        LongestRead = longestRead;
        Compatible = compatible;
        Inferred = inferred;
        Observed = observed;
    }

    /// <summary>The longest trusted read of the key (empty if none).</summary>
    public ReadOnlyMemory<long> Longest { get; }

    /// <summary>Position of <see cref="Longest"/> in the key's reads, or -1 when the key was never read.</summary>
    public int LongestRead { get; }

    /// <summary>Per read of the key (same positions as <see cref="HistoryIndex.ReadsByKey"/>): is it a prefix of <see cref="Longest"/>?</summary>
    public IReadOnlyList<bool> Compatible { get; }

    /// <summary>The sole unread element known to follow <see cref="Longest"/>, if there is one.</summary>
    public long? Inferred { get; }

    /// <summary>Every element some trusted read of the key returned.</summary>
    public IReadOnlySet<long> Observed { get; }

    /// <summary>Number of elements whose position is known.</summary>
    public int Count => Longest.Length + (Inferred is null ? 0 : 1);

    public long this[int position] => position < Longest.Length ? Longest.Span[position] : Inferred!.Value;

    public static VersionOrder Infer(HistoryIndex index, int key)
    {
        var reads = index.ReadsByKey[key];
        int longestRead = -1;
        for (int i = 0; i < reads.Count; i++)
        {
            if (longestRead < 0 || reads[i].Elements.Length > reads[longestRead].Elements.Length)
                longestRead = i;
        }
        var longest = longestRead < 0 ? ReadOnlyMemory<long>.Empty : reads[longestRead].Elements;

        var observed = new HashSet<long>();
        foreach (long element in longest.Span) observed.Add(element);
        var compatible = new bool[reads.Count];
        for (int i = 0; i < reads.Count; i++)
        {
            var read = reads[i].Elements.Span;
            // Reads sliced from one buffer compare in O(1): SequenceEqual first checks for the same memory.
            compatible[i] = read.Length <= longest.Length && read.SequenceEqual(longest.Span[..read.Length]);
            if (!compatible[i])
            {
                foreach (long element in read) observed.Add(element);
            }
        }

        return new VersionOrder(longest, longestRead, compatible, SoleUnreadCommitted(index, key, observed), observed);
    }

    private static long? SoleUnreadCommitted(HistoryIndex index, int key, HashSet<long> observed)
    {
        int candidates = 0;
        long? sole = null;
        foreach (var (element, site) in index.AppendsByKey[key])
        {
            if (observed.Contains(element)) continue;
            var outcome = index.Outcome(site.Txn);
            if (outcome == TxnOutcome.Aborted) continue;
            // An unknown writer still counts as a candidate: if it committed, its element competes for the slot.
            if (++candidates > 1) return null;
            sole = outcome == TxnOutcome.Committed ? element : null;
        }
        return sole;
    }
}
