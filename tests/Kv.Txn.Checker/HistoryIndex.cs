namespace Kv.Txn.Checker;

/// <summary>Where an element was appended: transaction, operation, and the same transaction's next append to that key.</summary>
internal readonly record struct AppendSite(int Txn, int Op, long? NextOwnElement)
{
    public bool IsFinalInTxn => NextOwnElement is null;
}

/// <summary>A completed read by a committed transaction: the only reads the checker trusts.</summary>
internal readonly record struct ObservedRead(int Txn, int Op, ReadOnlyMemory<long> Elements);

/// <summary>
/// The history turned into dense indexes (transactions by position, keys by number) so every later pass is array
/// lookups rather than string hashing.
/// </summary>
internal sealed class HistoryIndex
{
    private HistoryIndex(
        IReadOnlyList<TxnRecord> txns,
        List<string> keyNames,
        List<Dictionary<long, AppendSite>> appendsByKey,
        List<List<ObservedRead>> readsByKey)
    {
        Txns = txns;
        KeyNames = keyNames;
        AppendsByKey = appendsByKey;
        ReadsByKey = readsByKey;
    }

    public IReadOnlyList<TxnRecord> Txns { get; }

    public IReadOnlyList<string> KeyNames { get; }

    /// <summary>Per key: every appended element (by any transaction, whatever its outcome) and where.</summary>
    public IReadOnlyList<Dictionary<long, AppendSite>> AppendsByKey { get; }

    /// <summary>Per key: the trusted reads, in history order.</summary>
    public IReadOnlyList<List<ObservedRead>> ReadsByKey { get; }

    public int TxnCount => Txns.Count;

    public int KeyCount => KeyNames.Count;

    public TxnOutcome Outcome(int txn) => Txns[txn].Outcome;

    public long Id(int txn) => Txns[txn].Id;

    public string Name(int txn) => Format.Txn(Txns[txn].Id);

    public int? Writer(int key, long element) =>
        AppendsByKey[key].TryGetValue(element, out var site) ? site.Txn : null;

    public static HistoryIndex Build(History history)
    {
        var keyIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var keyNames = new List<string>();
        var appends = new List<Dictionary<long, AppendSite>>();
        var reads = new List<List<ObservedRead>>();
        var nextOwn = new Dictionary<int, long>();

        int KeyId(string key)
        {
            if (keyIds.TryGetValue(key, out int id)) return id;
            id = keyNames.Count;
            keyIds.Add(key, id);
            keyNames.Add(key);
            appends.Add([]);
            reads.Add([]);
            return id;
        }

        var txns = history.Transactions;
        for (int t = 0; t < txns.Count; t++)
        {
            var ops = txns[t].Ops;
            bool trusted = txns[t].Outcome == TxnOutcome.Committed;
            foreach (var op in ops) KeyId(op.Key);

            // Walking backwards tells each append whether its transaction appends to the key again, which is what
            // makes a read ending in it an intermediate read.
            nextOwn.Clear();
            for (int i = ops.Count - 1; i >= 0; i--)
            {
                int key = keyIds[ops[i].Key];
                switch (ops[i])
                {
                    case AppendOp append:
                        appends[key].Add(
                            append.Element,
                            new AppendSite(t, i, nextOwn.TryGetValue(key, out long next) ? next : null));
                        nextOwn[key] = append.Element;
                        break;
                    case ReadOp { Observed: { } observed } when trusted:
                        reads[key].Add(new ObservedRead(t, i, AsMemory(observed)));
                        break;
                }
            }
        }

        // Reads were gathered backwards within each transaction; history order makes "first reader" meaningful.
        foreach (var list in reads)
            list.Sort((a, b) => a.Txn != b.Txn ? a.Txn.CompareTo(b.Txn) : a.Op.CompareTo(b.Op));
        return new HistoryIndex(txns, keyNames, appends, reads);
    }

    // Reads in long histories share storage (a workload may hand out slices of one growing buffer); copying them
    // would make memory quadratic in the length of a key's list.
    private static ReadOnlyMemory<long> AsMemory(IReadOnlyList<long> list) => list switch
    {
        long[] array => array,
        ArraySegment<long> segment => segment,
        _ => list.ToArray(),
    };
}
