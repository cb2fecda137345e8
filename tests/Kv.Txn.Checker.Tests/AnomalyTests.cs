using static Kv.Txn.Checker.AnomalyKind;
using static Kv.Txn.Checker.TxnOutcome;

namespace Kv.Txn.Checker.Tests;

/// <summary>Each anomaly in the smallest hand-written history that shows it; transactions are T1, T2, … in begin order.</summary>
public sealed class AnomalyTests
{
    [Fact]
    public void G0_WritesToTwoKeysOrderedOppositeWays_IsAWriteCycle()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Append("y", 2).Complete(Committed);
        h.Begin().Append("x", 3).Append("y", 4).Complete(Committed);
        h.Begin().Read("x", [1, 3]).Read("y", [4, 2]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, G0);
        var cycle = Assert.Single(result.OfKind(G0));
        Assert.Equal([1L, 2L], cycle.TxnIds.Order());
        Assert.All(cycle.Cycle, edge => Assert.Equal(DependencyKind.WriteWrite, edge.Kind));
        Assert.Equal(["x", "y"], cycle.Keys.Order());
    }

    [Fact]
    public void G1a_CommittedReadOfAnAbortedAppend_IsAnAbortedRead()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Aborted);
        h.Begin().Read("x", [1]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, G1a);
        var anomaly = Assert.Single(result.Anomalies);
        Assert.Equal([2L, 1L], anomaly.TxnIds);
        Assert.Contains("T1, which aborted", anomaly.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void G1a_AbortedWriterThatWasRead_IsLeftOutOfTheDependencyGraph()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 2).Complete(Aborted);
        h.Begin().Append("x", 1).Read("y", [5]).Complete(Committed);
        h.Begin().Read("x", [1, 2]).Append("y", 5).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        // Through the aborted T1 the edges would run T2 -ww-> T1 -wr-> T3 -wr-> T2, a cycle that never happened.
        AssertKinds(result, G1a);
    }

    [Fact]
    public void G1a_ReadByAnAbortedTransaction_IsNotTrusted()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Aborted);
        h.Begin().Read("x", [1]).Complete(Aborted);
        h.Begin().Read("x", [1]).Complete(Unknown);

        Assert.True(ListAppendChecker.Check(h.ToHistory()).IsValid);
    }

    [Fact]
    public void G1b_ReadEndingBeforeTheWritersLastAppend_IsAnIntermediateRead()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Append("x", 2).Complete(Committed);
        h.Begin().Read("x", [1]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        // T2 read from T1 (wr) yet missed T1's second append (rw): the intermediate read also closes a G-single cycle.
        AssertKinds(result, G1b, GSingle);
        var anomaly = Assert.Single(result.OfKind(G1b));
        Assert.Equal([2L, 1L], anomaly.TxnIds);
        Assert.Contains("appended 2 to x after it", anomaly.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void G1c_ReadFromATransactionThatWroteAfterTheReader_IsCircularInformationFlow()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Append("y", 3).Complete(Committed);
        h.Begin().Read("x", [1]).Append("y", 2).Complete(Committed);
        h.Begin().Read("y", [2, 3]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, G1c);
        var cycle = Assert.Single(result.OfKind(G1c));
        Assert.Equal([1L, 2L], cycle.TxnIds.Order());
        Assert.Equal(
            [DependencyKind.WriteWrite, DependencyKind.WriteRead],
            cycle.Cycle.Select(edge => edge.Kind).Order());
    }

    [Fact]
    public void LostUpdate_BothAppendsLaterVisible_IsGSingle()
    {
        var h = new HistoryRecorder();
        h.Begin().Read("x", []).Append("x", 1).Complete(Committed);
        h.Begin().Read("x", []).Append("x", 2).Complete(Committed);
        h.Begin().Read("x", [1, 2]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        // T1's append precedes T2's (ww), yet T2 read x before T1's append (rw).
        AssertKinds(result, GSingle);
        var cycle = Assert.Single(result.OfKind(GSingle));
        Assert.Equal([1L, 2L], cycle.TxnIds.Order());
        Assert.Equal(1, cycle.ReadWriteEdges);
        Assert.Equal(DependencyKind.WriteWrite, cycle.Cycle.Single(edge => edge.Kind != DependencyKind.ReadWrite).Kind);
    }

    [Fact]
    public void LostUpdate_EachAppendSeenAlone_IsAnIncompatibleOrder()
    {
        var h = new HistoryRecorder();
        h.Begin().Read("x", []).Append("x", 1).Complete(Committed);
        h.Begin().Read("x", []).Append("x", 2).Complete(Committed);
        h.Begin().Read("x", [1]).Complete(Committed);
        h.Begin().Read("x", [2]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, IncompatibleOrder);
        Assert.Equal([4L, 3L], Assert.Single(result.Anomalies).TxnIds);
    }

    [Fact]
    public void WriteSkew_BothReadEmptyListsAndAppendToDifferentKeys_IsG2()
    {
        var h = new HistoryRecorder();
        h.Begin().Read("x", []).Read("y", []).Append("x", 1).Complete(Committed);
        h.Begin().Read("x", []).Read("y", []).Append("y", 2).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, G2);
        var cycle = Assert.Single(result.OfKind(G2));
        Assert.Equal(2, cycle.ReadWriteEdges);
        Assert.Equal([1L, 2L], cycle.TxnIds.Order());
    }

    [Fact]
    public void WriteSkew_WithBothAppendsReadLater_IsStillG2()
    {
        var h = new HistoryRecorder();
        h.Begin().Read("x", []).Read("y", []).Append("x", 1).Complete(Committed);
        h.Begin().Read("x", []).Read("y", []).Append("y", 2).Complete(Committed);
        h.Begin().Read("x", [1]).Read("y", [2]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, G2);
        Assert.Equal(2, Assert.Single(result.Anomalies).ReadWriteEdges);
    }

    [Fact]
    public void IncompatibleOrder_TwoReadsDisagreeOnTheOrderOfAppends_IsReported()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Committed);
        h.Begin().Append("x", 2).Complete(Committed);
        h.Begin().Read("x", [1, 2]).Complete(Committed);
        h.Begin().Read("x", [2, 1]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, IncompatibleOrder);
        var anomaly = Assert.Single(result.Anomalies);
        Assert.Equal([4L, 3L], anomaly.TxnIds);
        Assert.Contains("differ at position 0 (2 vs 1)", anomaly.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateElement_ReadShowingOneAppendTwice_IsReported()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Committed);
        h.Begin().Read("x", [1, 1]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, DuplicateElement);
        Assert.Equal([2L], Assert.Single(result.Anomalies).TxnIds);
    }

    [Fact]
    public void GarbageElement_ReadOfAnElementNobodyAppended_IsReported()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Committed);
        h.Begin().Read("x", [1, 99]).Complete(Committed);
        h.Begin().Read("x", [1, 99]).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, GarbageElement);
        var anomaly = Assert.Single(result.Anomalies);
        Assert.Equal([2L], anomaly.TxnIds);
        Assert.Contains("containing 99, which no transaction appended to x (2 reads returned it)", anomaly.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Internal_ReadAfterOwnAppendMissingIt_IsReported()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Read("x", []).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        AssertKinds(result, Internal);
        Assert.Equal([1L], Assert.Single(result.Anomalies).TxnIds);
    }

    [Fact]
    public void Internal_SecondReadThatLostTheFirstReadsPrefix_IsReported()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Committed);
        h.Begin().Read("x", [1]).Append("x", 2).Read("x", [1, 2]).Complete(Committed);
        h.Begin().Read("y", []).Read("y", [5]).Complete(Committed);
        h.Begin().Append("y", 5).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        // T2 is internally consistent; T3 read y twice and saw it change (and then read from T4 after missing it).
        Assert.True(result.Has(Internal), result.Describe());
        Assert.Equal([3L], Assert.Single(result.OfKind(Internal)).TxnIds);
    }

    [Fact]
    public void Unknown_WhoseAppendWasRead_JoinsTheGraphAsCommitted()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Append("y", 3).Complete(Unknown);
        h.Begin().Read("x", [1]).Append("y", 2).Complete(Committed);
        h.Begin().Read("y", [2, 3]).Complete(Committed);

        AssertKinds(ListAppendChecker.Check(h.ToHistory()), G1c);
    }

    [Fact]
    public void Unknown_WhoseAppendNobodyRead_OrdersNothing()
    {
        var h = new HistoryRecorder();
        h.Begin().Append("x", 1).Complete(Unknown);
        h.Begin().Read("x", []).Append("y", 2).Complete(Committed);
        h.Begin().Read("y", [2]).Read("x", []).Complete(Committed);

        var result = ListAppendChecker.Check(h.ToHistory());

        Assert.True(result.IsValid, result.Describe());
    }

    [Fact]
    public void LongCycle_ThroughTwentyThousandTransactions_IsFoundWithoutRecursion()
    {
        const int Length = 20_000;
        var txns = new List<TxnRecord>
        {
            new(1, Committed, [MicroOp.Read("y", [7]), MicroOp.Append("x", 1)]),
        };
        for (int id = 2; id < Length; id++) txns.Add(new TxnRecord(id, Committed, [MicroOp.Append("x", id)]));
        txns.Add(new TxnRecord(Length, Committed, [MicroOp.Append("x", Length), MicroOp.Append("y", 7)]));
        var all = Enumerable.Range(1, Length).Select(i => (long)i).ToArray();
        txns.Add(new TxnRecord(Length + 1, Committed, [MicroOp.Read("x", all)]));

        var result = ListAppendChecker.Check(new History(txns));

        AssertKinds(result, G1c);
        Assert.Equal(Length, Assert.Single(result.Anomalies).Cycle.Count);
    }

    private static void AssertKinds(CheckResult result, params AnomalyKind[] expected) =>
        Assert.True(expected.Order().SequenceEqual(result.Counts.Keys.Order()), result.Describe());
}
