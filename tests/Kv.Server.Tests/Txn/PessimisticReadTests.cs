using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Kv.Client;
using Kv.Server.Tests.Node;
using Kv.Txn.Checker;
using Xunit.Abstractions;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// Pessimistic (locking) reads on a 3-node cluster with two ranges: a live transaction's read locks outlast the recovery
/// delay (its heartbeats keep it alive), a dead one's are released within the Paxos-commit bound of 3 s, and
/// transactions that read and write each other's keys crosswise all finish (wound-wait: no deadlock).
/// </summary>
public sealed class PessimisticReadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);

    [Fact(Timeout = 120_000)]
    public async Task LiveTransaction_KeepsWritersOutPastTheRecoveryDelay_ThenCommits()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var txn = await LockBothKeysAsync(cluster);
        using var beating = new CancellationTokenSource();
        var heartbeats = HeartbeatUntilAsync(txn, node: 1, beating.Token);

        // 3.5 s: past the waiting writer's recovery delay (1 s) and the sweeper's (2 s, every second): the writer of x
        // is kept out the whole time, because the transaction is alive.
        var blocked = await Assert.ThrowsAsync<RpcException>(() => PutWithinAsync(cluster, "x", "overwrite", TimeSpan.FromSeconds(3.5)));
        Assert.Equal(StatusCode.DeadlineExceeded, blocked.StatusCode);

        txn.Put("result", "c+x");
        var committed = await txn.CommitAsync(node: 2);
        await beating.CancelAsync();
        await heartbeats;
        Assert.NotNull(committed);
        Assert.Equal("c+x", (await cluster.GetAsync("result")).Value.ToStringUtf8());
        await PutWithinAsync(cluster, "x", "after", TimeSpan.FromSeconds(5)); // released by the commit
    }

    [Fact(Timeout = 120_000)]
    public async Task KilledCoordinator_ItsReadLocksAreReleasedWithin3s_AndItCanNeverCommit()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var txn = await LockBothKeysAsync(cluster);
        using (var beating = new CancellationTokenSource())
        {
            var heartbeats = HeartbeatUntilAsync(txn, node: 1, beating.Token);
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // alive past the recovery delay first
            // The coordinator dies: the client stops heartbeating, and the node it talked to crashes with it.
            await beating.CancelAsync();
            await heartbeats;
        }
        await cluster.StopNodeAsync(1, crash: true);
        var clock = Stopwatch.StartNew();
        foreach (var key in new[] { "c", "x" }) await PutWithinAsync(cluster, key, "after-" + key, TimeSpan.FromSeconds(10));
        var blockedFor = clock.Elapsed;
        output.WriteLine($"keys writable {blockedFor.TotalMilliseconds:0} ms after the coordinator died");
        Assert.True(blockedFor < TimeSpan.FromSeconds(3), $"the keys were blocked for {blockedFor} after the coordinator died");

        // Its commit, had it survived, is refused: the recovery aborted its record.
        txn.Put("result", "stale");
        Assert.Null(await txn.CommitAsync(node: 2));
        Assert.False((await cluster.GetAsync("result")).Found);
    }

    [Fact(Timeout = 180_000)]
    public async Task CrossingPessimisticTransactions_AllFinish_AndAreSerializable()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        string[] keys = ["c", "x"];
        var recorder = new HistoryRecorder();
        long nextElement = 0;
        int attempts = 0;
        await using var client = new KvClient(Enumerable.Range(1, 3).Select(id => cluster.Endpoint(id).ToString()));
        var options = new KvTransactionOptions { LockReadsAfterConflicts = 0, MaxAttempts = 50, RetryBackoffMax = TimeSpan.FromMilliseconds(200) };
        // Each worker locks one key, waits, locks the other, and appends to the one the other workers locked first.
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            string first = keys[w % 2], second = keys[(w + 1) % 2];
            for (int i = 0; i < 3; i++)
            {
                await client.RunTransactionAsync(async tx =>
                {
                    Interlocked.Increment(ref attempts);
                    var record = recorder.Begin();
                    await SdkTxnRecording.RecordAsync(record, async () =>
                    {
                        record.Read(first, Parse(await tx.GetStringAsync(first)));
                        await Task.Delay(100);
                        var target = Parse(await tx.GetStringAsync(second));
                        record.Read(second, target);
                        long element = Interlocked.Increment(ref nextElement);
                        await tx.PutAsync(second, string.Join(',', target.Append(element)));
                        record.Append(second, element);
                        await tx.CommitAsync();
                    });
                }, options);
            }
        })).ToList();
        // All twelve commit, none is left waiting: a deadlock would hang here until the timeout.
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));
        var final = recorder.Begin();
        await using (var reader = await client.BeginTransactionAsync(new KvTransactionOptions { ReadOnly = true }))
        {
            foreach (var key in keys) final.Read(key, Parse(await reader.GetStringAsync(key)));
        }
        final.Complete(TxnOutcome.Committed);
        var history = recorder.ToHistory();
        output.WriteLine($"12 transactions committed in {attempts} attempts");
        Assert.Equal(12, history.Transactions.Count(t => t.Outcome == TxnOutcome.Committed) - 1);
        var result = ListAppendChecker.Check(history);
        Assert.True(result.IsValid, result.Describe());
    }

    /// <summary>Writes c and x (one in each range) and begins a pessimistic transaction that has read-locked both.</summary>
    private static async Task<TxnDriver> LockBothKeysAsync(InProcessCluster cluster)
    {
        await cluster.PutAsync("c", "old-c");
        await cluster.PutAsync("x", "old-x");
        var txn = await TxnDriver.BeginLockingAsync(cluster, homeKey: "c");
        Assert.Equal("old-c", await txn.GetAsync("c"));
        Assert.Equal("old-x", await txn.GetAsync("x"));
        return txn;
    }

    private static async Task HeartbeatUntilAsync(TxnDriver txn, int node, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Assert.False(await txn.HeartbeatAsync(node), "a live transaction was aborted");
            try
            {
                await Task.Delay(HeartbeatInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A plain put at any node, which must succeed within <paramref name="within"/> (else the last failure). Every node is
    /// tried: the range's leader may move to any of them meanwhile, and the others only redirect.
    /// </summary>
    private static async Task PutWithinAsync(InProcessCluster cluster, string key, string value, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            foreach (int id in new[] { 1, 2, 3 })
            {
                try
                {
                    await cluster.Kv(id).PutAsync(new Wire.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                        deadline: deadline);
                    return;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable && DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(20);
        }
    }

    private static List<long> Parse(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToList();
}
