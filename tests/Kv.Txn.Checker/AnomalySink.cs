namespace Kv.Txn.Checker;

/// <summary>Counts every anomaly but keeps only the first few of each kind.</summary>
internal sealed class AnomalySink(int perKindMax)
{
    private readonly List<Anomaly> _kept = [];
    private readonly Dictionary<AnomalyKind, int> _counts = [];

    /// <summary>Counts one anomaly of <paramref name="kind"/>; true if it should be explained and kept.</summary>
    /// <remarks>Callers build the explanation only when this says so, since a broken history yields thousands.</remarks>
    public bool Count(AnomalyKind kind)
    {
        _counts.TryGetValue(kind, out int count);
        _counts[kind] = ++count;
        return count <= perKindMax;
    }

    public void Keep(Anomaly anomaly) => _kept.Add(anomaly);

    /// <summary>Counts a non-cycle anomaly about one key, explaining it only if it is kept.</summary>
    public void Add(AnomalyKind kind, string key, Func<string> explain, params long[] txnIds)
    {
        if (Count(kind)) Keep(new Anomaly(kind, explain(), txnIds, [key], []));
    }

    public CheckResult ToResult(int transactionsChecked) => new(_kept, _counts, transactionsChecked);
}
