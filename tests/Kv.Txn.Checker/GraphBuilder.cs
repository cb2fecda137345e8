namespace Kv.Txn.Checker;

/// <summary>Infers the ww, wr and rw edges from each key's version order, and optionally real-time edges.</summary>
internal sealed class GraphBuilder
{
    private readonly bool[] _included;
    private readonly List<Edge> _edges = [];
    // One edge per (from, to, kind) is enough for cycles; the first key found explains it.
    private readonly HashSet<(int From, int To, DependencyKind Kind)> _present = [];

    private GraphBuilder(bool[] included) => _included = included;

    public static DependencyGraph Build(HistoryIndex index, IReadOnlyList<VersionOrder> orders, bool realTime)
    {
        var builder = new GraphBuilder(IncludedTransactions(index, orders));
        for (int key = 0; key < index.KeyCount; key++) builder.AddKeyEdges(index, key, orders[key]);
        if (realTime) RealTimeEdges.Add(index, builder._included, builder.Add);
        return new DependencyGraph(builder._included, builder._edges);
    }

    // An unknown transaction whose append was read must have committed; one whose appends nobody saw may not have,
    // and ordering it would invent dependencies.
    private static bool[] IncludedTransactions(HistoryIndex index, IReadOnlyList<VersionOrder> orders)
    {
        var included = new bool[index.TxnCount];
        for (int t = 0; t < index.TxnCount; t++) included[t] = index.Outcome(t) == TxnOutcome.Committed;
        for (int key = 0; key < index.KeyCount; key++)
        {
            foreach (long element in orders[key].Observed)
            {
                if (index.Writer(key, element) is { } writer && index.Outcome(writer) == TxnOutcome.Unknown)
                    included[writer] = true;
            }
        }
        return included;
    }

    private void AddKeyEdges(HistoryIndex index, int key, VersionOrder order)
    {
        for (int position = 0; position + 1 < order.Count; position++)
        {
            long prior = order[position];
            long next = order[position + 1];
            if (index.Writer(key, prior) is { } from && index.Writer(key, next) is { } to)
                Add(new Edge(from, to, DependencyKind.WriteWrite, key, next, prior));
        }

        var reads = index.ReadsByKey[key];
        for (int i = 0; i < reads.Count; i++)
        {
            var read = reads[i];
            var elements = read.Elements.Span;
            long? last = elements.IsEmpty ? null : elements[^1];
            if (last is { } seen && index.Writer(key, seen) is { } writer)
                Add(new Edge(writer, read.Txn, DependencyKind.WriteRead, key, seen, null));

            // An incompatible read has no place in the version order, so nothing is known to follow it.
            if (!order.Compatible[i] || elements.Length >= order.Count) continue;
            long following = order[elements.Length];
            if (index.Writer(key, following) is { } overwriter)
                Add(new Edge(read.Txn, overwriter, DependencyKind.ReadWrite, key, following, last));
        }
    }

    private void Add(Edge edge)
    {
        if (edge.From == edge.To || !_included[edge.From] || !_included[edge.To]) return;
        if (_present.Add((edge.From, edge.To, edge.Kind))) _edges.Add(edge);
    }
}
