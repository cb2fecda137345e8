using static Kv.Txn.Checker.TxnOutcome;

namespace Kv.Txn.Checker.Tests;

public sealed class HistoryRecorderTests
{
    [Fact]
    public void ManyThreads_RecordingAtOnce_LoseNothing()
    {
        var recorder = new HistoryRecorder();

        Parallel.For(0, 2_000, i =>
        {
            var txn = recorder.Begin();
            txn.Append($"k{i % 7}", i);
            txn.Complete(Committed);
        });

        var history = recorder.ToHistory();
        Assert.Equal(2_000, history.Count);
        Assert.Equal(Enumerable.Range(1, 2_000).Select(i => (long)i), history.Transactions.Select(txn => txn.Id).Order());
        Assert.Equal(2_000, history.Transactions.Select(txn => ((AppendOp)txn.Ops[0]).Element).Distinct().Count());
    }

    [Fact]
    public void Transaction_NotYetComplete_IsRecordedAsUnknown()
    {
        var recorder = new HistoryRecorder();
        recorder.Begin().Append("x", 1);

        Assert.Equal(Unknown, Assert.Single(recorder.ToHistory().Transactions).Outcome);
    }

    [Fact]
    public void Complete_Twice_Throws()
    {
        var txn = new HistoryRecorder().Begin();
        txn.Complete(Committed);

        Assert.Throws<InvalidOperationException>(() => txn.Complete(Aborted));
        Assert.Throws<InvalidOperationException>(() => txn.Append("x", 1));
    }

    [Fact]
    public void Read_CopiesTheList_SoTheCallerMayReuseIt()
    {
        var recorder = new HistoryRecorder();
        var buffer = new List<long> { 1 };
        recorder.Begin().Read("x", buffer).Complete(Committed);
        buffer.Add(2);

        var read = (ReadOp)recorder.ToHistory().Transactions[0].Ops[0];
        Assert.Equal([1L], read.Observed!);
    }

    [Fact]
    public void Clock_StampsStartAndEnd()
    {
        long ticks = 10;
        var recorder = new HistoryRecorder(() => ticks);
        var txn = recorder.Begin();
        ticks = 15;
        txn.Complete(Committed);

        var record = recorder.ToHistory().Transactions[0];
        Assert.Equal((10L, 15L), (record.StartTicks!.Value, record.EndTicks!.Value));
    }

    [Fact]
    public void History_ElementAppendedTwiceToOneKey_IsRejected()
    {
        var recorder = new HistoryRecorder();
        recorder.Begin().Append("x", 1).Complete(Committed);
        recorder.Begin().Append("x", 1).Complete(Aborted);

        var error = Assert.Throws<ArgumentException>(recorder.ToHistory);
        Assert.Contains("element 1 is appended to key x twice", error.Message, StringComparison.Ordinal);
    }
}
