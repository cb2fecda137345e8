namespace Kv.Txn.Checker;

/// <summary>One recorded transaction of a list-append history.</summary>
/// <param name="Id">Unique within the history; explanations call the transaction <c>T{Id}</c>.</param>
/// <param name="Outcome">What the client knows about how the transaction ended.</param>
/// <param name="Ops">The micro-operations in program order.</param>
/// <param name="StartTicks">
/// When the client began the transaction, on a clock shared by all clients; used only for real-time edges
/// (<see cref="CheckOptions.RealTime"/>).
/// </param>
/// <param name="EndTicks">When the client learned the outcome; used only for real-time edges.</param>
public sealed record TxnRecord(
    long Id,
    TxnOutcome Outcome,
    IReadOnlyList<MicroOp> Ops,
    long? StartTicks = null,
    long? EndTicks = null)
{
    /// <inheritdoc />
    public override string ToString() => $"T{Id} {Outcome}: {string.Join(", ", Ops)}";
}
