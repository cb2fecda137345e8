using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kv.Txn.Coordination;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// The coordinator (node 1) crashes at every step boundary of a transaction that writes two ranges. Paxos commit:
/// the outcome is all-or-nothing and the keys are readable and writable again within 3 s without node 1. Two-phase
/// commit: once prepared, the keys stay blocked until node 1 comes back; then the outcome is all-or-nothing too.
/// </summary>
public sealed class CoordinatorCrashTests
{
    private static readonly string[] Keys = ["c", "x"];

    public static TheoryData<TxnStep, bool> PaxosSteps => new()
    {
        { TxnStep.BeforeStage, false },
        { TxnStep.BetweenStages, false },
        { TxnStep.AfterStagesBeforeDecision, false },
        { TxnStep.AfterDecisionBeforePublish, true },
        { TxnStep.DuringPublish, true },
    };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(PaxosSteps))]
    public async Task PaxosCommit_CoordinatorCrash_IsAllOrNothing_AndUnblocksWithin3s(TxnStep step, bool committed)
    {
        var stop = new StopAtStep(step);
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"], id => id == 1 ? stop : null);
        var commit = await StartCommitAsync(cluster, Wire.CommitProtocol.Paxos, stop);
        await cluster.StopNodeAsync(1, crash: true);
        _ = commit.ContinueWith(t => t.Exception, TaskScheduler.Default);

        var clock = Stopwatch.StartNew();
        foreach (var key in Keys)
        {
            var read = await cluster.GetAsync(key);
            Assert.Equal(committed ? "new-" + key : "old-" + key, read.Value.ToStringUtf8());
        }
        // Readable and writable again, all within 3 s of the crash.
        foreach (var key in Keys) await cluster.PutAsync(key, "after-" + key);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the keys were blocked for {clock.Elapsed} after the coordinator crashed at {step}");
    }

    public static TheoryData<TxnStep, bool, bool> TwoPhaseSteps => new()
    {
        { TxnStep.BeforeStage, false, false },
        { TxnStep.BetweenStages, true, false },
        { TxnStep.AfterStagesBeforeDecision, true, false },
        { TxnStep.AfterDecisionBeforePublish, true, true },
        { TxnStep.DuringPublish, true, true },
    };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(TwoPhaseSteps))]
    public async Task TwoPhaseCommit_CoordinatorCrash_BlocksPreparedKeys_UntilItReturns(TxnStep step, bool blocks, bool committed)
    {
        var stop = new StopAtStep(step);
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"], id => id == 1 ? stop : null);
        var commit = await StartCommitAsync(cluster, Wire.CommitProtocol.TwoPhase, stop);
        await cluster.StopNodeAsync(1, crash: true);
        _ = commit.ContinueWith(t => t.Exception, TaskScheduler.Default);

        // The first key's range is prepared from BetweenStages on (during the publish, the first is published and
        // the second still prepared): with their coordinator gone, they cannot be read.
        if (blocks)
        {
            string preparedKey = step == TxnStep.DuringPublish ? "x" : "c";
            var blocked = await Assert.ThrowsAsync<RpcException>(() => GetWithinAsync(cluster, preparedKey, TimeSpan.FromSeconds(3)));
            Assert.Equal(StatusCode.DeadlineExceeded, blocked.StatusCode);
        }
        await cluster.StartNodeAsync(1);
        foreach (var key in Keys)
        {
            var read = await cluster.GetAsync(key);
            Assert.Equal(committed ? "new-" + key : "old-" + key, read.Value.ToStringUtf8());
        }
        foreach (var key in Keys) await cluster.PutAsync(key, "after-" + key);
    }

    /// <summary>Writes the old values, then starts a transaction writing new ones at node 1 and waits until it stops at the step.</summary>
    private static async Task<Task> StartCommitAsync(Node.InProcessCluster cluster, Wire.CommitProtocol protocol, StopAtStep stop)
    {
        foreach (var key in Keys) await cluster.PutAsync(key, "old-" + key);
        var txn = await TxnDriver.BeginAsync(cluster);
        foreach (var key in Keys)
        {
            Assert.Equal("old-" + key, await txn.GetAsync(key));
            txn.Put(key, "new-" + key);
        }
        var commit = txn.CommitAsync(protocol, node: 1);
        await stop.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        return commit;
    }

    private static async Task<Wire.GetResponse> GetWithinAsync(Node.InProcessCluster cluster, string key, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            foreach (int id in new[] { 2, 3 })
            {
                try
                {
                    return await cluster.Kv(id).GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: deadline);
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable && DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(20);
        }
    }
}
