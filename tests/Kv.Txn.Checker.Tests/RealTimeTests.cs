using static Kv.Txn.Checker.TxnOutcome;

namespace Kv.Txn.Checker.Tests;

/// <summary>Real-time edges turn stale reads into cycles: serializable, but not strictly serializable.</summary>
public sealed class RealTimeTests
{
    [Fact]
    public void StaleRead_AfterTheWriterCommitted_IsGSingleRealtimeOnlyWithTheOption()
    {
        var h = new HistoryRecorder();
        h.Begin(0).Append("x", 1).Complete(Committed, 1);
        h.Begin(2).Read("x", []).Complete(Committed, 3);
        var history = h.ToHistory();

        var serializable = ListAppendChecker.Check(history);
        var strict = ListAppendChecker.Check(history, new CheckOptions { RealTime = true });

        Assert.True(serializable.IsValid, serializable.Describe());
        var cycle = Assert.Single(strict.Anomalies);
        Assert.Equal(AnomalyKind.GSingleRealtime, cycle.Kind);
        Assert.Equal(
            [DependencyKind.ReadWrite, DependencyKind.RealTime],
            cycle.Cycle.Select(edge => edge.Kind).Order());
    }

    [Fact]
    public void StaleRead_OverlappingTheWriter_IsValid()
    {
        var h = new HistoryRecorder();
        h.Begin(0).Append("x", 1).Complete(Committed, 2);
        h.Begin(2).Read("x", []).Complete(Committed, 3);

        var result = ListAppendChecker.Check(h.ToHistory(), new CheckOptions { RealTime = true });

        Assert.True(result.IsValid, result.Describe());
    }

    [Fact]
    public void StaleRead_AfterAnUnknownWriter_IsValid()
    {
        var h = new HistoryRecorder();
        h.Begin(0).Append("x", 1).Complete(Unknown, 1);
        h.Begin(2).Read("x", []).Complete(Committed, 3);
        h.Begin(4).Read("x", [1]).Complete(Committed, 5);

        // The unknown transaction may have committed only after its client gave up, so it orders nothing by time.
        var result = ListAppendChecker.Check(h.ToHistory(), new CheckOptions { RealTime = true });

        Assert.True(result.IsValid, result.Describe());
    }

    [Fact]
    public void StaleRead_ThroughAChainOfLaterTransactions_IsStillFound()
    {
        var h = new HistoryRecorder();
        h.Begin(0).Append("x", 1).Complete(Committed, 1);
        // Transactions in between make the writer leave the real-time frontier before the stale reader begins.
        for (int i = 0; i < 5; i++) h.Begin(2 + (2 * i)).Append("y", i).Complete(Committed, 3 + (2 * i));
        h.Begin(20).Read("x", []).Complete(Committed, 21);

        var result = ListAppendChecker.Check(h.ToHistory(), new CheckOptions { RealTime = true });

        Assert.Equal(AnomalyKind.GSingleRealtime, Assert.Single(result.Anomalies).Kind);
    }
}
