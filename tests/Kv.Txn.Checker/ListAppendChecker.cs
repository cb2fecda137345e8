namespace Kv.Txn.Checker;

/// <summary>
/// Checks a list-append history for isolation anomalies in the manner of Jepsen's Elle: it infers each key's order of
/// appends from what reads returned, builds the ww / wr / rw dependency graph between transactions, and reports
/// every anomaly that graph and the reads themselves show. See <c>CHECKER.md</c> beside this file for the rules.
/// </summary>
/// <remarks>
/// Committed transactions are trusted fully. Aborted transactions contribute nothing but the elements they appended,
/// which no read may return (G1a). Unknown transactions' reads are ignored (the client cannot know they were the
/// committed ones), and they join the graph only once a committed read returns one of their appends.
/// </remarks>
public static class ListAppendChecker
{
    /// <summary>Checks <paramref name="history"/>.</summary>
    /// <param name="history">The recorded history.</param>
    /// <param name="options">Options; <see cref="CheckOptions.Default"/> when null.</param>
    /// <returns>The verdict and the anomalies found.</returns>
    public static CheckResult Check(History history, CheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= CheckOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(options.AnomaliesPerKindMax);

        var index = HistoryIndex.Build(history);
        var sink = new AnomalySink(options.AnomaliesPerKindMax);
        InternalConsistency.Check(index, sink);

        var orders = new VersionOrder[index.KeyCount];
        for (int key = 0; key < index.KeyCount; key++)
        {
            orders[key] = VersionOrder.Infer(index, key);
            ReadValidation.Check(index, key, orders[key], sink);
        }

        var graph = GraphBuilder.Build(index, orders, options.RealTime);
        CycleFinder.Report(index, graph, options, sink);
        return sink.ToResult(history.Count);
    }
}
