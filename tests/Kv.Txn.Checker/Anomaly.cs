namespace Kv.Txn.Checker;

/// <summary>One anomaly found in a history.</summary>
/// <param name="Kind">What kind of anomaly.</param>
/// <param name="Explanation">Human-readable evidence naming the transactions, keys and elements involved.</param>
/// <param name="TxnIds">The transactions involved; for a cycle, in cycle order starting anywhere.</param>
/// <param name="Keys">The keys involved.</param>
/// <param name="Cycle">For a cycle anomaly, its edges in order (the last leads back to the first); otherwise empty.</param>
public sealed record Anomaly(
    AnomalyKind Kind,
    string Explanation,
    IReadOnlyList<long> TxnIds,
    IReadOnlyList<string> Keys,
    IReadOnlyList<DependencyEdge> Cycle)
{
    /// <summary>True for the cycle kinds (G0, G1c, G-single, G2 and their real-time variants).</summary>
    public bool IsCycle => Cycle.Count > 0;

    /// <summary>Number of read-write (anti-dependency) edges in <see cref="Cycle"/>.</summary>
    public int ReadWriteEdges => Cycle.Count(edge => edge.Kind == DependencyKind.ReadWrite);

    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Explanation}";
}
