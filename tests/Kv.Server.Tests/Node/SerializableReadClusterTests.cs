using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Tests.Api;
using Kv.Server.Tests.Txn;
using Kv.Txn.Coordination;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Node;

/// <summary>
/// Serializable reads on a three-node cluster: a follower serves them from its own replica even when it can reach
/// neither the leader nor a quorum, and a read that meets a transaction's staged version is not served from the
/// replica but goes the linearizable way.
/// </summary>
public sealed class SerializableReadClusterTests
{
    private const ulong UserRange = 2; // the genesis range over every user key

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Wire.GetRequest SerializableGet(string key) => new() { Key = B(key), Consistency = Wire.ReadConsistency.Serializable };

    /// <summary>
    /// The leader and the other follower stopped: no node can serve a linearizable read any more (the control below
    /// shows it), so an answer can only come from the follower's own replica.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task AFollowerAlone_ServesSerializableReads_FromItsReplica()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await cluster.PutAsync("k", "v1");
        await cluster.PutAsync("l", "v2");
        int leader = await LeaderOfAsync(cluster);
        int follower = leader % 3 + 1;
        int other = follower % 3 + 1;
        await WaitAppliedAsync(cluster, follower, leader);

        // Crashed, not stopped: a clean stop hands leadership to another voter, which could be this follower (then
        // holding a lease). The other follower first, so that the follower never sees a leader but the crashed one.
        await cluster.StopNodeAsync(other, crash: true);
        await cluster.StopNodeAsync(leader, crash: true);
        Assert.False(cluster.Node(follower).Host.Status(UserRange).IsLeader);

        var c = cluster.Kv(follower);
        var got = await c.GetAsync(SerializableGet("k"), deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Equal("v1", got.Value.ToStringUtf8());
        var batch = await c.BatchAsync(new Wire.BatchRequest
        {
            Operations = { new Wire.BatchOperation { Get = SerializableGet("l") }, new Wire.BatchOperation { Get = SerializableGet("none") } },
        }, deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Equal("v2", batch.Results[0].Get.Value.ToStringUtf8());
        Assert.False(batch.Results[1].Get.Found);
        var page = await c.ScanAsync(new Wire.ScanRequest { StartKey = B("k"), EndKey = B("m"), Consistency = Wire.ReadConsistency.Serializable },
            deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(["k", "l"], page.Entries.Select(e => e.Key.ToStringUtf8()));

        // Control: the same node cannot serve a linearizable read now.
        await KvAssert.NotLeaderAsync(async () => await c.GetAsync(new Wire.GetRequest { Key = B("k") }, deadline: DateTime.UtcNow.AddSeconds(5)));
    }

    /// <summary>
    /// A two-phase commit stopped once both keys are staged, with its coordinator (node 1) crashed: the keys are
    /// blocked until it returns. Nodes 2 and 3 hold the staged versions, and the committed value below them ("old-…")
    /// is in their replicas too; a serializable get must still not answer from the replica once the staged version is
    /// there (it goes the linearizable way: NotLeader at a follower, a wait at the leader), while a key no transaction
    /// holds is served. Once node 1 is back the transaction aborts and the old value is served again.
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task AStagedVersion_IsNotServedFromTheReplica_TheReadGoesTheLinearizableWay()
    {
        var stop = new StopAtStep(TxnStep.AfterStagesBeforeDecision);
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"], id => id == 1 ? stop : null);
        string[] keys = ["c", "x"];
        foreach (var key in keys) await cluster.PutAsync(key, "old-" + key);
        await cluster.PutAsync("free", "plain");
        var txn = await TxnDriver.BeginAsync(cluster);
        foreach (var key in keys)
        {
            Assert.Equal("old-" + key, await txn.GetAsync(key));
            txn.Put(key, "new-" + key);
        }
        var commit = txn.CommitAsync(Wire.CommitProtocol.TwoPhase, node: 1);
        await stop.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await cluster.StopNodeAsync(1, crash: true);
        _ = commit.ContinueWith(t => t.Exception, TaskScheduler.Default);

        foreach (int id in new[] { 2, 3 })
        {
            foreach (var key in keys)
            {
                // Until this replica has applied the stage, the committed value is a fine (stale) answer; after, no answer
                // may come from the replica. A replica that answered past the staged version would keep answering.
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (true)
                {
                    RpcException? refused = null;
                    try
                    {
                        var read = await cluster.Kv(id).GetAsync(SerializableGet(key), deadline: DateTime.UtcNow.AddSeconds(1));
                        Assert.Equal("old-" + key, read.Value.ToStringUtf8());
                    }
                    catch (RpcException e)
                    {
                        refused = e;
                    }
                    if (refused is not null)
                    {
                        Assert.True(refused.StatusCode is StatusCode.FailedPrecondition or StatusCode.DeadlineExceeded or StatusCode.Unavailable,
                            $"node {id}, key {key}: {refused.StatusCode} {refused.Status.Detail}");
                        break;
                    }
                    Assert.True(DateTime.UtcNow < deadline, $"node {id} kept serving {key} from its replica past the staged version");
                    await Task.Delay(50);
                }
            }
            var free = await cluster.Kv(id).GetAsync(SerializableGet("free"), deadline: DateTime.UtcNow.AddSeconds(5));
            Assert.Equal("plain", free.Value.ToStringUtf8());
        }

        await cluster.StartNodeAsync(1);
        foreach (int id in new[] { 1, 2, 3 })
            foreach (var key in keys)
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (true)
                {
                    try
                    {
                        var read = await cluster.Kv(id).GetAsync(SerializableGet(key), deadline: DateTime.UtcNow.AddSeconds(2));
                        Assert.Equal("old-" + key, read.Value.ToStringUtf8());
                        break;
                    }
                    catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.DeadlineExceeded or StatusCode.Unavailable)
                    {
                        await Task.Delay(50);
                    }
                }
            }
    }

    private static async Task<int> LeaderOfAsync(InProcessCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (int id in new[] { 1, 2, 3 })
                if (cluster.Node(id).Host.Status(UserRange).IsLeader) return id;
            Assert.True(DateTime.UtcNow < deadline, "range 2 has no leader");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until <paramref name="follower"/> has applied everything <paramref name="leader"/> has.</summary>
    private static async Task WaitAppliedAsync(InProcessCluster cluster, int follower, int leader)
    {
        long target = cluster.Node(leader).Host.Status(UserRange).AppliedUpTo;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (cluster.Node(follower).Host.Status(UserRange).AppliedUpTo < target)
        {
            Assert.True(DateTime.UtcNow < deadline, $"node {follower} did not apply up to {target}");
            await Task.Delay(20);
        }
    }
}
