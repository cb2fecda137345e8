using static Kv.Txn.Checker.TxnOutcome;

namespace Kv.Txn.Checker.Tests;

/// <summary>Histories a serializable database can produce must pass, or the checker cries wolf.</summary>
public sealed class ValidHistoryTests
{
    [Fact]
    public void Serial_ManyTransactionsOverSeveralKeys_IsValid()
    {
        string[] keys = ["x", "y", "z"];
        var lists = keys.ToDictionary(key => key, _ => new List<long>());
        var h = new HistoryRecorder();
        for (int i = 0; i < 300; i++)
        {
            // Each transaction reads one key, appends to it and to the next, and reads the second back.
            string first = keys[i % 3];
            string second = keys[(i + 1) % 3];
            var txn = h.Begin().Read(first, lists[first]);
            lists[first].Add((2 * i) + 1);
            txn.Append(first, (2 * i) + 1);
            lists[second].Add((2 * i) + 2);
            txn.Append(second, (2 * i) + 2).Read(second, lists[second]).Complete(Committed);
        }

        var result = ListAppendChecker.Check(h.ToHistory());

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(300, result.TransactionsChecked);
    }

    [Fact]
    public void Concurrent_SerializableInOrderT1T3T2T4_IsValidEvenInRealTime()
    {
        var h = new HistoryRecorder();
        var t1 = h.Begin(0).Append("x", 1);
        var t2 = h.Begin(2);
        var t3 = h.Begin(1).Read("y", []).Append("z", 1);
        var aborted = h.Begin(3).Append("x", 99);
        aborted.Complete(Aborted, 4);
        t3.Complete(Committed, 5);
        var unknown = h.Begin(6).Append("y", 77);
        t1.Complete(Committed, 10);
        t2.Read("x", [1]).Append("y", 1).Complete(Committed, 12);
        h.Begin(13).Read("z", [1]).Read("y", [1]).Complete(Committed, 14);

        var history = h.ToHistory();
        var serializable = ListAppendChecker.Check(history);
        var strict = ListAppendChecker.Check(history, new CheckOptions { RealTime = true });

        Assert.True(serializable.IsValid, serializable.Describe());
        Assert.True(strict.IsValid, strict.Describe());
        Assert.Equal(Unknown, history.Transactions.Single(txn => txn.Id == unknown.Id).Outcome);
    }

    [Fact]
    public void EmptyHistory_IsValid()
    {
        Assert.True(ListAppendChecker.Check(History.Of()).IsValid);
    }
}
