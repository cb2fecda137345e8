using Google.Protobuf;
using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>
/// READ_CONSISTENCY_SERIALIZABLE against node 1 alone: served from its replica (by the leader, and by a replica that
/// never leads), falling back to the linearizable path for a range the node does not host, and refused with a
/// read_timestamp. The cluster cases (a follower cut off from the others, staged versions) are in
/// <see cref="Node.SerializableReadClusterTests"/>.
/// </summary>
public sealed class KvSerializableReadTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Wire.GetRequest SerializableGet(string key) => new() { Key = B(key), Consistency = Wire.ReadConsistency.Serializable };

    [Fact(Timeout = 30_000)]
    public async Task AtTheLeader_GetBatchAndScan_SeeTheLatestWrite()
    {
        await using var server = await KvTestServer.StartAsync();
        var c = server.Client;
        await c.PutAsync(new Wire.PutRequest { Key = B("a"), Value = B("1") }, deadline: KvTestServer.Deadline());
        await c.PutAsync(new Wire.PutRequest { Key = B("b"), Value = B("2") }, deadline: KvTestServer.Deadline());
        await c.DeleteAsync(new Wire.DeleteRequest { Key = B("b") }, deadline: KvTestServer.Deadline());

        var a = await c.GetAsync(SerializableGet("a"), deadline: KvTestServer.Deadline());
        Assert.True(a.Found);
        Assert.Equal("1", a.Value.ToStringUtf8());
        var linearizable = await c.GetAsync(new Wire.GetRequest { Key = B("a") }, deadline: KvTestServer.Deadline());
        Assert.Equal(linearizable.Version, a.Version);
        Assert.False((await c.GetAsync(SerializableGet("b"), deadline: KvTestServer.Deadline())).Found);

        var batch = await c.BatchAsync(new Wire.BatchRequest
        {
            Operations = { new Wire.BatchOperation { Get = SerializableGet("a") }, new Wire.BatchOperation { Get = SerializableGet("zz") } },
        }, deadline: KvTestServer.Deadline());
        Assert.Equal("1", batch.Results[0].Get.Value.ToStringUtf8());
        Assert.False(batch.Results[1].Get.Found);

        var page = await c.ScanAsync(new Wire.ScanRequest { Consistency = Wire.ReadConsistency.Serializable }, deadline: KvTestServer.Deadline());
        Assert.Equal(["a"], page.Entries.Select(e => e.Key.ToStringUtf8()));
        Assert.Null(page.ReadTimestamp);
    }

    /// <summary>
    /// Voters [1, 2] with node 2 absent: node 1 never leads, so a linearizable get can only answer NotLeader. A
    /// serializable get answers from node 1's replica: had it gone the linearizable way (or to a leader), it would
    /// fail like the linearizable one.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task AtAReplicaThatNeverLeads_IsServedLocally_WhileALinearizableGetIsNotLeader()
    {
        await using var server = await KvTestServer.StartAsync(KvTestTopology.VotersWithAbsentPeer);
        var c = server.Client;
        await KvAssert.NotLeaderAsync(async () => await c.GetAsync(new Wire.GetRequest { Key = B("k") }, deadline: KvTestServer.Deadline(5)));

        var local = await c.GetAsync(SerializableGet("k"), deadline: KvTestServer.Deadline(5));
        Assert.False(local.Found);
        var page = await c.ScanAsync(new Wire.ScanRequest { Consistency = Wire.ReadConsistency.Serializable }, deadline: KvTestServer.Deadline(5));
        Assert.Empty(page.Entries);
        Assert.True(page.ResumeKey.IsEmpty);
    }

    /// <summary>A key of a range this node does not host: the serializable get falls back and answers RangeMoved, as a linearizable one does.</summary>
    [Fact(Timeout = 30_000)]
    public async Task ForARangeNotHostedHere_FallsBack_ToRangeMoved()
    {
        await using var server = await KvTestServer.StartAsync(locator: local => new KvUnknownRangeTests.SplitLocator(local));
        var c = server.Client;
        var calls = new Func<Task>[]
        {
            async () => await c.GetAsync(SerializableGet("z"), deadline: KvTestServer.Deadline()),
            async () => await c.BatchAsync(new Wire.BatchRequest { Operations = { new Wire.BatchOperation { Get = SerializableGet("z") } } },
                deadline: KvTestServer.Deadline()),
            async () => await c.ScanAsync(new Wire.ScanRequest { StartKey = B("x"), Consistency = Wire.ReadConsistency.Serializable },
                deadline: KvTestServer.Deadline()),
        };
        foreach (var call in calls)
        {
            var status = await KvAssert.FailsWithAsync(StatusCode.FailedPrecondition, call);
            Assert.Equal(KvUnknownRangeTests.ElsewhereRangeId, status.GetDetail<Wire.RangeMoved>()?.Descriptor_.RangeId);
        }
        // The hosted range still serves serializable reads.
        Assert.False((await c.GetAsync(SerializableGet("a"), deadline: KvTestServer.Deadline())).Found);
    }

    [Fact(Timeout = 30_000)]
    public async Task WithAReadTimestamp_IsInvalidArgument()
    {
        await using var server = await KvTestServer.StartAsync();
        var c = server.Client;
        var at = new Wire.Timestamp { WallNanos = 1_000, Logical = 0 };
        var get = SerializableGet("k");
        get.ReadTimestamp = at;
        var detail = await KvAssert.InvalidArgumentAsync("read_timestamp", async () => await c.GetAsync(get, deadline: KvTestServer.Deadline()));
        Assert.Contains("SERIALIZABLE", detail.Reason, StringComparison.Ordinal);
        await KvAssert.InvalidArgumentAsync("operations[0].get.read_timestamp", async () =>
            await c.BatchAsync(new Wire.BatchRequest { Operations = { new Wire.BatchOperation { Get = get } } }, deadline: KvTestServer.Deadline()));
        await KvAssert.InvalidArgumentAsync("read_timestamp", async () =>
            await c.ScanAsync(new Wire.ScanRequest { Consistency = Wire.ReadConsistency.Serializable, ReadTimestamp = at }, deadline: KvTestServer.Deadline()));
        // The same timestamp with SNAPSHOT is a valid request.
        await c.GetAsync(new Wire.GetRequest { Key = B("k"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = at }, deadline: KvTestServer.Deadline());
    }
}
