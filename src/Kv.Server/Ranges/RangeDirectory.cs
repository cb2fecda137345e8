using Wire = Kv.Proto.V1;

namespace Kv.Server.Ranges;

/// <summary>
/// This node's view of where every user range lives: the descriptors its meta-range replica has applied, merged
/// with the ones its own range replicas produced by applying splits (which may be newer). Per range the highest
/// generation wins, and a split always publishes both halves at once, so the view never has a gap or an overlap.
/// It only routes: the replica that serves a request checks the key against its own span, and a stale route
/// ends in a <c>RangeMoved</c> answer, never in a wrong one.
/// <para>Lookups are lock-free over an immutable sorted array that every (rare) update replaces.</para>
/// </summary>
public sealed class RangeDirectory
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, Wire.RangeDescriptor> _byId = new();
    private volatile Wire.RangeDescriptor[] _sorted = [];

    /// <summary>Raised (outside the lock) after an update changed something.</summary>
    public event Action? Changed;

    /// <summary>Merges descriptors in; each replaces its range's only if its generation is higher.</summary>
    public void Update(IEnumerable<Wire.RangeDescriptor> descriptors)
    {
        bool changed = false;
        lock (_gate)
        {
            foreach (var d in descriptors)
            {
                if (d.RangeId == RangeIds.Meta) continue;
                if (_byId.TryGetValue(d.RangeId, out var known) && known.Generation >= d.Generation) continue;
                _byId[d.RangeId] = d.Clone();
                changed = true;
            }
            if (changed)
                _sorted = _byId.Values.OrderBy(d => d.StartKey.ToByteArray(), ByteComparer.Instance).ToArray();
        }
        if (changed) Changed?.Invoke();
    }

    /// <summary>Every known user range, in key order.</summary>
    public IReadOnlyList<Wire.RangeDescriptor> All => _sorted;

    /// <summary>The descriptor of a range, or null when unknown.</summary>
    public Wire.RangeDescriptor? Get(ulong rangeId)
    {
        lock (_gate) return _byId.GetValueOrDefault(rangeId);
    }

    /// <summary>The range that owns <paramref name="key"/>, or null when none is known (before init).</summary>
    public Wire.RangeDescriptor? Find(ReadOnlySpan<byte> key)
    {
        var sorted = _sorted;
        int i = LastStartingAtOrBelow(sorted, key);
        return i >= 0 && Descriptors.Contains(sorted[i], key) ? sorted[i] : null;
    }

    /// <summary>
    /// The range that owns the keys just below <paramref name="end"/> (where a reverse scan starts); an empty
    /// <paramref name="end"/> is the end of the key space.
    /// </summary>
    public Wire.RangeDescriptor? FindBefore(ReadOnlySpan<byte> end)
    {
        var sorted = _sorted;
        if (end.IsEmpty) return sorted.Length > 0 ? sorted[^1] : null;
        // The last range starting strictly below end.
        int lo = 0, hi = sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].StartKey.Span.SequenceCompareTo(end) < 0) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found >= 0 ? sorted[found] : null;
    }

    private static int LastStartingAtOrBelow(Wire.RangeDescriptor[] sorted, ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].StartKey.Span.SequenceCompareTo(key) <= 0) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
