namespace Kv.Txn.Checker;

/// <summary>Turns a cycle of graph edges into an <see cref="Anomaly"/> whose text shows the evidence for every edge.</summary>
internal static class CycleExplanation
{
    public static Anomaly Describe(HistoryIndex index, DependencyGraph graph, AnomalyKind kind, List<int> cycle, int componentSize)
    {
        var edges = cycle.Select(edge => ToPublic(index, graph[edge])).ToList();
        var txnIds = edges.Select(edge => edge.From).ToList();
        var keys = edges.Where(edge => edge.Key is not null).Select(edge => edge.Key!).Distinct().ToList();
        string path = string.Join(" ", edges.Select(edge => $"{Format.Txn(edge.From)} -{edge.ShortName}->"))
            + $" {Format.Txn(edges[0].From)}";
        string scope = componentSize > cycle.Count
            ? $" (one cycle of a strongly connected component of {componentSize} transactions)"
            : "";
        string text = $"cycle {path}{scope}: {string.Join("; ", edges.Select(edge => edge.Explanation))}";
        return new Anomaly(kind, text, txnIds, keys, edges);
    }

    private static DependencyEdge ToPublic(HistoryIndex index, in Edge edge)
    {
        string from = index.Name(edge.From);
        string to = index.Name(edge.To);
        string? key = edge.Key >= 0 ? index.KeyNames[edge.Key] : null;
        string text = edge.Kind switch
        {
            DependencyKind.WriteWrite =>
                $"{from} appended {edge.Prior} to {key} and {to} appended the next element, {edge.Element} (ww)",
            DependencyKind.WriteRead =>
                $"{to} read {key} ending in {edge.Element}, which {from} appended (wr)",
            DependencyKind.ReadWrite when edge.Prior is { } seen =>
                $"{from} read {key} ending in {seen} and {to} appended the next element, {edge.Element} (rw)",
            DependencyKind.ReadWrite =>
                $"{from} read {key} as empty and {to} appended its first element, {edge.Element} (rw)",
            _ =>
                $"{from} committed at {index.Txns[edge.From].EndTicks} before {to} began at {index.Txns[edge.To].StartTicks} (rt)",
        };
        return new DependencyEdge(index.Id(edge.From), index.Id(edge.To), edge.Kind, key, text);
    }
}
