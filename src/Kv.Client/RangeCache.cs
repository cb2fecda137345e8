using Wire = Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// The client's map of key ranges: the descriptors it learned from the cluster (the admin <c>ListRanges</c> call,
/// and every <c>RangeMoved</c> error, which carries the current descriptor). A newer descriptor evicts the older
/// ones it overlaps, so a split or merge corrects the map without a separate lookup. Advisory: a stale entry costs
/// one redirect. Lookups are lock-free over an immutable array that each (rare) update replaces.
/// </summary>
internal sealed class RangeCache
{
    private readonly object _gate = new();
    private volatile Wire.RangeDescriptor[] _sorted = [];

    /// <summary>How many ranges are cached.</summary>
    public int Count => _sorted.Length;

    /// <summary>The cached range holding <paramref name="key"/>, or null.</summary>
    public Wire.RangeDescriptor? Find(ReadOnlySpan<byte> key)
    {
        var sorted = _sorted;
        int lo = 0, hi = sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].StartKey.Span.SequenceCompareTo(key) <= 0) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0) return null;
        var d = sorted[found];
        return d.EndKey.IsEmpty || key.SequenceCompareTo(d.EndKey.Span) < 0 ? d : null;
    }

    /// <summary>Adds descriptors; each evicts cached ones it overlaps that are not newer than it.</summary>
    public void Update(IEnumerable<Wire.RangeDescriptor> descriptors)
    {
        lock (_gate)
        {
            var list = _sorted.ToList();
            foreach (var d in descriptors)
            {
                var overlapping = list.Where(c => c.RangeId == d.RangeId || Overlap(c, d)).ToList();
                if (overlapping.Any(c => c.RangeId == d.RangeId && c.Generation > d.Generation)) continue;
                foreach (var c in overlapping) list.Remove(c);
                list.Add(d);
            }
            list.Sort((a, b) => a.StartKey.Span.SequenceCompareTo(b.StartKey.Span));
            _sorted = list.ToArray();
        }
    }

    /// <summary>Forgets a range (found stale).</summary>
    public void Evict(ulong rangeId)
    {
        lock (_gate) _sorted = _sorted.Where(d => d.RangeId != rangeId).ToArray();
    }

    private static bool Overlap(Wire.RangeDescriptor a, Wire.RangeDescriptor b) =>
        (a.EndKey.IsEmpty || b.StartKey.Span.SequenceCompareTo(a.EndKey.Span) < 0)
        && (b.EndKey.IsEmpty || a.StartKey.Span.SequenceCompareTo(b.EndKey.Span) < 0);
}
