namespace Kv.Txn.Checker;

/// <summary>
/// Records a list-append history while a workload runs. Any number of threads may begin and complete transactions
/// at once; ids are assigned 1, 2, 3, … in the order of <see cref="Begin()"/>.
/// </summary>
/// <example>
/// <code>
/// var recorder = new HistoryRecorder();
/// var txn = recorder.Begin();
/// txn.Read("x", list).Append("x", 7);
/// txn.Complete(TxnOutcome.Committed);
/// var result = ListAppendChecker.Check(recorder.ToHistory());
/// </code>
/// </example>
public sealed class HistoryRecorder
{
    private readonly Lock _gate = new();
    private readonly List<TxnRecorder> _begun = [];
    private readonly Func<long>? _clock;
    private long _lastId;

    /// <summary>Creates an empty recorder.</summary>
    /// <param name="clock">
    /// When given, stamps every transaction's start and end with it (for real-time checking). It must be one clock
    /// shared by every client, such as a simulator's tick counter.
    /// </param>
    public HistoryRecorder(Func<long>? clock = null) => _clock = clock;

    /// <summary>Begins recording a transaction, stamped with the recorder's clock if it has one.</summary>
    public TxnRecorder Begin() => Begin(_clock?.Invoke());

    /// <summary>Begins recording a transaction that started at <paramref name="startTicks"/>.</summary>
    public TxnRecorder Begin(long? startTicks)
    {
        lock (_gate)
        {
            var txn = new TxnRecorder(++_lastId, startTicks, _clock);
            _begun.Add(txn);
            return txn;
        }
    }

    /// <summary>
    /// The history so far. Transactions not yet completed appear with outcome <see cref="TxnOutcome.Unknown"/>, which is
    /// what a crashed client's transactions are.
    /// </summary>
    public History ToHistory()
    {
        lock (_gate)
        {
            return new History(_begun.Select(txn => txn.Snapshot()));
        }
    }
}
