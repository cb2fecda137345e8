using System.Globalization;
using Grpc.Core;
using Kv.Client;
using Kv.Server.Tests.Node;
using Kv.Txn.Checker;
using Xunit.Abstractions;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// Item 6 of "Cross-range atomic transactions": a long serializable transaction reads 20 keys in two ranges, slowly,
/// while short writers keep appending to those keys. Optimistically it fails validation on every attempt; with
/// <see cref="KvTransactionOptions.LockReadsAfterConflicts"/> its attempts after the second read with locks, and it
/// commits within a bounded number of attempts; the whole history (writers, the long transaction, a final read) is
/// checked for every anomaly up to G2. The same run with the escalation switched off (null: never) must starve: that
/// is the broken variant the bound is checked against.
/// </summary>
public sealed class StarvationTests(ITestOutputHelper output)
{
    private const int LockAfter = 2;
    private const int AttemptsMax = LockAfter + 3;
    private static readonly TimeSpan ReadDelay = TimeSpan.FromMilliseconds(25);
    private static readonly string[] Keys =
        [.. Enumerable.Range(0, 10).Select(i => $"b-{i:00}"), .. Enumerable.Range(0, 10).Select(i => $"r-{i:00}")];

    [Fact(Timeout = 180_000)]
    public async Task LongTransaction_UnderContinuousOverwrites_CommitsOnceItLocksItsReads_AndTheHistoryIsSerializable()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var run = await RunAsync(cluster, LockAfter);
        output.WriteLine(run.Describe());
        Assert.True(run.Committed, $"the long transaction did not commit within {AttemptsMax} attempts: {run.Failure}");
        // Two optimistic attempts conflicted (the overwrites are that frequent), then the locking ones got through.
        Assert.InRange(run.Attempts, 1, LockAfter + 2);
        Assert.True(run.WriterCommits >= 20, "too few overwrites to mean anything");
        var result = ListAppendChecker.Check(run.History);
        Assert.True(result.IsValid, result.Describe());
    }

    [Fact(Timeout = 180_000)]
    public async Task WithTheEscalationSwitchedOff_TheLongTransactionStarves()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var run = await RunAsync(cluster, lockAfter: null);
        output.WriteLine(run.Describe());
        Assert.False(run.Committed, "the long transaction committed optimistically: the writers did not contend enough to show starvation");
        Assert.Equal(AttemptsMax, run.Attempts);
        Assert.True(ListAppendChecker.Check(run.History).IsValid);
    }

    private sealed record Run(bool Committed, int Attempts, string Failure, int WriterCommits, int WriterAborts, TimeSpan Took, History History)
    {
        public string Describe() =>
            $"long transaction: {(Committed ? "committed" : "did not commit")} after {Attempts} attempt(s) in {Took.TotalSeconds:0.0} s {Failure}; "
            + $"writers: {WriterCommits} commits, {WriterAborts} aborts";
    }

    private static async Task<Run> RunAsync(InProcessCluster cluster, int? lockAfter)
    {
        var recorder = new HistoryRecorder();
        long nextElement = 0;
        int writerCommits = 0, writerAborts = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                var committed = await AppendAsync(cluster, recorder, Keys[random.Next(Keys.Length)], Interlocked.Increment(ref nextElement), 1 + w % 3);
                if (committed == true) Interlocked.Increment(ref writerCommits);
                else if (committed == false) Interlocked.Increment(ref writerAborts);
            }
        })).ToList();

        await using var client = new KvClient(Enumerable.Range(1, 3).Select(id => cluster.Endpoint(id).ToString()));
        int attempts = 0;
        string failure = "";
        bool committed = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            // Let the writers get going first, so that every attempt of the long transaction meets them.
            await Task.Delay(300);
            await client.RunTransactionAsync(async tx =>
            {
                Interlocked.Increment(ref attempts);
                var record = recorder.Begin();
                await SdkTxnRecording.RecordAsync(record, async () =>
                {
                    foreach (var key in Keys)
                    {
                        record.Read(key, Parse(await tx.GetStringAsync(key)));
                        await Task.Delay(ReadDelay); // a slow body: the overwrites land while it runs
                    }
                    var sum = Parse(await tx.GetStringAsync("long-result"));
                    record.Read("long-result", sum);
                    long element = Interlocked.Increment(ref nextElement);
                    await tx.PutAsync("long-result", string.Join(',', sum.Append(element)));
                    record.Append("long-result", element);
                    await tx.CommitAsync();
                });
            }, new KvTransactionOptions
            {
                LockReadsAfterConflicts = lockAfter, MaxAttempts = AttemptsMax, RetryBackoff = TimeSpan.FromMilliseconds(10),
                RetryBackoffMax = TimeSpan.FromMilliseconds(50),
            });
            committed = true;
        }
        catch (KvTransactionConflictException e)
        {
            failure = e.Reason;
        }
        var took = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        // A last read of every list fixes the version order of every key.
        var final = recorder.Begin();
        await using (var reader = await client.BeginTransactionAsync(new KvTransactionOptions { ReadOnly = true }))
        {
            foreach (var key in Keys.Append("long-result")) final.Read(key, Parse(await reader.GetStringAsync(key)));
            await reader.CommitAsync();
        }
        final.Complete(TxnOutcome.Committed);
        return new Run(committed, attempts, failure, writerCommits, writerAborts, took, recorder.ToHistory());
    }

    /// <summary>A short optimistic read-append-write of one list: true committed, false aborted, null unknown.</summary>
    private static async Task<bool?> AppendAsync(InProcessCluster cluster, HistoryRecorder recorder, string key, long element, int node)
    {
        var record = recorder.Begin();
        try
        {
            var txn = await TxnDriver.BeginAsync(cluster, node);
            var list = Parse(await txn.GetAsync(key));
            record.Read(key, list);
            txn.Put(key, string.Join(',', list.Append(element)));
            record.Append(key, element);
            bool committed = await txn.CommitAsync(node: node) is not null;
            record.Complete(committed ? TxnOutcome.Committed : TxnOutcome.Aborted);
            return committed;
        }
        catch (RpcException)
        {
            record.Complete(TxnOutcome.Unknown);
            return null;
        }
    }

    private static List<long> Parse(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToList();
}
