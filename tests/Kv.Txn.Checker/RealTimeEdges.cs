namespace Kv.Txn.Checker;

/// <summary>
/// Adds real-time edges (committed T1 ended before T2 began ⇒ T1 → T2) without the quadratic all-pairs set: each
/// transaction gets edges only from the "frontier" of transactions that ended before it began and are not already
/// implied through a later one. Reachability, and so every cycle, is the same as with all pairs.
/// </summary>
internal static class RealTimeEdges
{
    public static void Add(HistoryIndex index, bool[] included, Action<Edge> add)
    {
        // (time, 0 = begin / 1 = end, txn): at equal ticks begins sort first, since an end at t does not precede a begin at t.
        var events = new List<(long Ticks, int IsEnd, int Txn)>();
        for (int t = 0; t < index.TxnCount; t++)
        {
            if (!included[t]) continue;
            var txn = index.Txns[t];
            if (txn.StartTicks is { } start) events.Add((start, 0, t));
            // An unknown transaction may commit long after its client gave up, so its end orders nothing.
            if (txn.EndTicks is { } end && txn.Outcome == TxnOutcome.Committed) events.Add((end, 1, t));
        }
        events.Sort();

        var frontier = new HashSet<int>();
        var predecessors = new int[]?[index.TxnCount];
        foreach (var (_, isEnd, txn) in events)
        {
            if (isEnd == 0)
            {
                predecessors[txn] = [.. frontier];
                foreach (int from in predecessors[txn]!)
                    add(new Edge(from, txn, DependencyKind.RealTime, -1, 0, null));
                continue;
            }
            // Whatever preceded this transaction now reaches later ones through it.
            if (predecessors[txn] is { } implied)
            {
                foreach (int from in implied) frontier.Remove(from);
            }
            frontier.Add(txn);
        }
    }
}
