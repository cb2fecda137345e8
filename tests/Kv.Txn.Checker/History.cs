namespace Kv.Txn.Checker;

/// <summary>
/// A recorded list-append history: every transaction a workload ran, with its outcome and what its reads returned.
/// Build one directly from <see cref="TxnRecord"/>s or with a <see cref="HistoryRecorder"/>.
/// </summary>
public sealed class History
{
    /// <summary>Takes a snapshot of <paramref name="transactions"/> and checks the generator's contract.</summary>
    /// <exception cref="ArgumentException">
    /// Two transactions share an id, a transaction or operation is null, or one element is appended to one key twice
    /// (the workload must make appended elements unique per key, or reads could not be attributed to a writer).
    /// </exception>
    public History(IEnumerable<TxnRecord> transactions)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        var list = transactions.ToList();
        var ids = new HashSet<long>();
        var appended = new HashSet<(string Key, long Element)>();
        foreach (var txn in list)
        {
            if (txn?.Ops is null)
                throw new ArgumentException("a transaction or its operation list is null", nameof(transactions));
            if (!ids.Add(txn.Id))
                throw new ArgumentException($"transaction id {txn.Id} appears twice", nameof(transactions));
            foreach (var op in txn.Ops)
            {
                if (op?.Key is null)
                    throw new ArgumentException($"T{txn.Id} has a null operation or key", nameof(transactions));
                if (op is AppendOp append && !appended.Add((append.Key, append.Element)))
                {
                    throw new ArgumentException(
                        $"element {append.Element} is appended to key {append.Key} twice (again by T{txn.Id})",
                        nameof(transactions));
                }
            }
        }
        Transactions = list;
    }

    /// <summary>The transactions, in the order given.</summary>
    public IReadOnlyList<TxnRecord> Transactions { get; }

    /// <summary>Number of transactions.</summary>
    public int Count => Transactions.Count;

    /// <summary>A history of the given transactions.</summary>
    public static History Of(params TxnRecord[] transactions) => new(transactions);
}
