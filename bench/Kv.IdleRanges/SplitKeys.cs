using System.Globalization;

namespace Kv.IdleRanges;

/// <summary>
/// The split keys PREFIX0001..PREFIXN (zero-padded to one width, so byte order is numeric order), and the order to
/// split them in. Always highest key first: a split keeps the left half in the existing group (which has a leader)
/// and starts a new group for the right half, which has no leader until its first election (an election timeout,
/// 1–2 s by default). Splitting in descending order, each next split cuts the left half again, so no split waits
/// for an election; in ascending order every split would.
/// </summary>
internal static class SplitKeys
{
    public static IReadOnlyList<string> Make(string prefix, int count)
    {
        int width = Math.Max(4, count.ToString(CultureInfo.InvariantCulture).Length);
        return Enumerable.Range(1, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')).ToArray();
    }

    /// <summary>
    /// Pivots first, one after another and in descending order, then one run per worker between two pivots, each
    /// in descending order. A run only ever splits the first range of its own segment, so runs never touch the same
    /// range and can go concurrently (only a run's first split waits for its segment's election).
    /// </summary>
    public static (IReadOnlyList<string> Pivots, IReadOnlyList<IReadOnlyList<string>> Runs) Partition(IReadOnlyList<string> keys, int workers)
    {
        workers = Math.Clamp(workers, 1, Math.Max(1, keys.Count));
        if (workers == 1) return ([], [keys.Reverse().ToArray()]);
        int runLength = (int)Math.Ceiling(keys.Count / (double)workers);
        var pivots = new List<string>();
        var runs = new List<IReadOnlyList<string>>();
        for (int start = 0; start < keys.Count; start += runLength)
        {
            // The run's first key is its pivot (except for the first run, which starts at the key space's start).
            int from = start;
            if (start > 0)
            {
                pivots.Add(keys[start]);
                from = start + 1;
            }
            runs.Add(keys.Skip(from).Take(start + runLength - from).Reverse().ToArray());
        }
        pivots.Reverse();
        return (pivots, runs);
    }
}
