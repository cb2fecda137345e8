namespace Kv.Txn.Checker;

/// <summary>
/// Collects the micro-operations of one transaction in program order; obtained from <see cref="HistoryRecorder.Begin()"/>.
/// Safe to use from several threads, though a transaction's operations are normally issued by one.
/// </summary>
public sealed class TxnRecorder
{
    private readonly Lock _gate = new();
    private readonly List<MicroOp> _ops = [];
    private readonly long? _startTicks;
    private readonly Func<long>? _clock;
    private TxnOutcome? _outcome;
    private long? _endTicks;

    internal TxnRecorder(long id, long? startTicks, Func<long>? clock)
    {
        Id = id;
        _startTicks = startTicks;
        _clock = clock;
    }

    /// <summary>The transaction's id in the history.</summary>
    public long Id { get; }

    /// <summary>Records an append of <paramref name="element"/> to <paramref name="key"/>.</summary>
    /// <exception cref="InvalidOperationException">The transaction is already complete.</exception>
    public TxnRecorder Append(string key, long element) => Add(MicroOp.Append(key, element));

    /// <summary>
    /// Records a read of <paramref name="key"/> that returned <paramref name="observed"/>, or <see langword="null"/> when
    /// the read did not complete. The list is copied, so the caller may reuse it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The transaction is already complete.</exception>
    public TxnRecorder Read(string key, IReadOnlyList<long>? observed) => Add(MicroOp.Read(key, observed?.ToArray()));

    /// <summary>Records the outcome, stamped with the recorder's clock if it has one.</summary>
    /// <exception cref="InvalidOperationException">The transaction is already complete.</exception>
    public void Complete(TxnOutcome outcome) => Complete(outcome, _clock?.Invoke());

    /// <summary>Records the outcome, learned at <paramref name="endTicks"/>.</summary>
    /// <exception cref="InvalidOperationException">The transaction is already complete.</exception>
    public void Complete(TxnOutcome outcome, long? endTicks)
    {
        lock (_gate)
        {
            ThrowIfComplete();
            _outcome = outcome;
            _endTicks = endTicks;
        }
    }

    internal TxnRecord Snapshot()
    {
        lock (_gate)
        {
            return new TxnRecord(Id, _outcome ?? TxnOutcome.Unknown, _ops.ToArray(), _startTicks, _endTicks);
        }
    }

    private TxnRecorder Add(MicroOp op)
    {
        ArgumentNullException.ThrowIfNull(op.Key);
        lock (_gate)
        {
            ThrowIfComplete();
            _ops.Add(op);
        }
        return this;
    }

    private void ThrowIfComplete()
    {
        if (_outcome is not null)
            throw new InvalidOperationException($"T{Id} is already complete ({_outcome})");
    }
}
