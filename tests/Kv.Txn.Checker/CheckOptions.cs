namespace Kv.Txn.Checker;

/// <summary>Options of <see cref="ListAppendChecker.Check"/>.</summary>
public sealed record CheckOptions
{
    /// <summary>The defaults: serializability (no real-time edges), at most 100 anomalies kept per kind.</summary>
    public static CheckOptions Default { get; } = new();

    /// <summary>
    /// Adds an edge from every committed transaction to every transaction that began after it ended, so cycles through
    /// them show violations of strict serializability. Needs <see cref="TxnRecord.StartTicks"/> and
    /// <see cref="TxnRecord.EndTicks"/>; transactions without them get no real-time edges.
    /// </summary>
    public bool RealTime { get; init; }

    /// <summary>
    /// Anomalies kept per kind; further ones are only counted (<see cref="CheckResult.Counts"/>), because a broken
    /// database can produce one per read and explanations of thousands help no one.
    /// </summary>
    public int AnomaliesPerKindMax { get; init; } = 100;

    /// <summary>
    /// Bound on the breadth-first steps spent looking for a single-anti-dependency cycle in one strongly connected
    /// component whose edges do not make one obvious; past it the component is reported as G2.
    /// </summary>
    public int SingleAntiDependencySearchStepsMax { get; init; } = 1_000_000;
}
