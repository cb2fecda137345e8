using System.Text;

namespace Kv.Txn.Checker;

/// <summary>The verdict of <see cref="ListAppendChecker.Check"/>.</summary>
/// <param name="Anomalies">The anomalies found, at most <see cref="CheckOptions.AnomaliesPerKindMax"/> per kind.</param>
/// <param name="Counts">How many anomalies of each kind were found, including those not kept; kinds not found are absent.</param>
/// <param name="TransactionsChecked">Number of transactions in the history.</param>
public sealed record CheckResult(
    IReadOnlyList<Anomaly> Anomalies,
    IReadOnlyDictionary<AnomalyKind, int> Counts,
    int TransactionsChecked)
{
    /// <summary>True when no anomaly was found.</summary>
    public bool IsValid => Counts.Count == 0;

    /// <summary>True when at least one anomaly of <paramref name="kind"/> was found.</summary>
    public bool Has(AnomalyKind kind) => Counts.ContainsKey(kind);

    /// <summary>The kept anomalies of <paramref name="kind"/>.</summary>
    public IEnumerable<Anomaly> OfKind(AnomalyKind kind) => Anomalies.Where(anomaly => anomaly.Kind == kind);

    /// <summary>A multi-line report: the verdict, the count per kind, then up to <paramref name="anomaliesMax"/> explanations.</summary>
    public string Describe(int anomaliesMax = 20)
    {
        var text = new StringBuilder(Summary());
        foreach (var anomaly in Anomalies.Take(anomaliesMax))
            text.AppendLine().Append("  ").Append(anomaly);
        if (Anomalies.Count > anomaliesMax)
            text.AppendLine().Append("  … ").Append(Anomalies.Count - anomaliesMax).Append(" more kept");
        return text.ToString();
    }

    /// <summary>The verdict and the count per kind, on one line.</summary>
    public override string ToString() => Summary();

    private string Summary()
    {
        var text = new StringBuilder();
        text.Append(IsValid ? "valid" : "INVALID").Append(": ").Append(TransactionsChecked).Append(" transactions");
        foreach (var (kind, count) in Counts.OrderBy(pair => pair.Key))
            text.Append(", ").Append(kind).Append(" x").Append(count);
        return text.ToString();
    }
}
