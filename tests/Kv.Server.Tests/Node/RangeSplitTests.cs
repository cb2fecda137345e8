using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Node;

/// <summary>Splits on a 3-node in-process cluster: routing, scans across ranges, persistence, deduplication.</summary>
public sealed class RangeSplitTests
{
    private static readonly string[] Letters = Enumerable.Range(0, 26).Select(i => ((char)('a' + i)).ToString()).ToArray();

    [Fact(Timeout = 60_000)]
    public async Task Init_CreatesOneUserRangeOverEveryKey_OnEveryNode()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        foreach (int id in new[] { 1, 2, 3 })
        {
            var ranges = (await cluster.Admin(id).ListRangesAsync(new Wire.ListRangesRequest())).Ranges;
            var only = Assert.Single(ranges);
            Assert.Equal(RangeIds.FirstUser, only.RangeId);
            Assert.True(only.StartKey.IsEmpty && only.EndKey.IsEmpty);
            Assert.Equal(3, only.Replicas.Count);
            Assert.All(only.Replicas, r => Assert.StartsWith("http://127.0.0.1:", r.Endpoint, StringComparison.Ordinal));
            var status = await cluster.Admin(id).NodeStatusAsync(new Wire.NodeStatusRequest());
            Assert.Equal((ulong)id, status.NodeId);
            Assert.Equal([RangeIds.Meta, RangeIds.FirstUser], status.Replicas.Select(r => r.Range.RangeId).Order());
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Split_RoutesEachKeyToItsHalf_ScansCrossTheBoundary_AndSurvivesRestart()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        foreach (var k in Letters) await cluster.PutAsync(k, "v-" + k);

        // Any node accepts the split; node 3 may well not lead the range.
        var split = await cluster.Admin(3).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        Assert.Equal("m", split.Left.EndKey.ToStringUtf8());
        Assert.Equal("m", split.Right.StartKey.ToStringUtf8());
        Assert.True(split.Right.EndKey.IsEmpty);
        Assert.Equal(2UL, split.Left.Generation);
        Assert.Equal(2UL, split.Right.Generation);
        Assert.NotEqual(split.Left.RangeId, split.Right.RangeId);

        // Every node's directory converges on the two halves: contiguous, no gap, no overlap.
        foreach (int id in new[] { 1, 2, 3 }) await WaitForRangesAsync(cluster, id, 2);

        // Reads and writes on both sides, through every node.
        foreach (var k in Letters) Assert.Equal("v-" + k, (await cluster.GetAsync(k)).Value.ToStringUtf8());
        await cluster.PutAsync("a2", "left");
        await cluster.PutAsync("z2", "right");
        var forward = await cluster.ScanAllAsync("", null);
        var expected = Letters.Concat(["a2", "z2", "\u0001probe"]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, forward.Select(e => e.Key.ToStringUtf8()).ToList());
        var reverse = await cluster.ScanAllAsync("", null, reverse: true);
        Assert.Equal(Enumerable.Reverse(expected).ToList(), reverse.Select(e => e.Key.ToStringUtf8()).ToList());
        var middle = await cluster.ScanAllAsync("k", "p");
        Assert.Equal(["k", "l", "m", "n", "o"], middle.Select(e => e.Key.ToStringUtf8()).ToList());

        // Both ranges, their data and the directory come back after every node restarts.
        foreach (int id in new[] { 1, 2, 3 }) await cluster.StopNodeAsync(id);
        foreach (int id in new[] { 1, 2, 3 }) await cluster.StartNodeAsync(id);
        var ranges = await WaitForRangesAsync(cluster, 1, 2);
        Assert.Equal([split.Left.RangeId, split.Right.RangeId], ranges.Select(r => r.RangeId));
        Assert.Equal("right", (await cluster.GetAsync("z2")).Value.ToStringUtf8());
        Assert.Equal("left", (await cluster.GetAsync("a2")).Value.ToStringUtf8());
        await cluster.PutAsync("n2", "after restart");
        Assert.Equal(expected.Count + 1, (await cluster.ScanAllAsync("", null)).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task RepeatedSplits_KeepTheRangesContiguous()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        foreach (var k in Letters) await cluster.PutAsync(k, k);
        foreach (var key in new[] { "m", "f", "t", "c", "x" })
            await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) });
        var ranges = await WaitForRangesAsync(cluster, 2, 6);
        Assert.Equal(["", "c", "f", "m", "t", "x"], ranges.Select(r => r.StartKey.ToStringUtf8()));
        Assert.Equal(Letters.Concat(["\u0001probe"]).Order(StringComparer.Ordinal), (await cluster.ScanAllAsync("", null)).Select(e => e.Key.ToStringUtf8()));
        Assert.Equal(6, ranges.Select(r => r.RangeId).Distinct().Count());
    }

    [Fact(Timeout = 60_000)]
    public async Task ConcurrentSplits_ThroughOneNode_AllSucceed()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        // The node's own proposals (range ids, splits, meta updates) run concurrently; none may be refused as an
        // out-of-order retry of another.
        // Through a node that leads neither the meta range nor the user range, so every proposal is forwarded.
        int via = new[] { 1, 2, 3 }.First(id => cluster.Node(id).Host.Replicas().All(r => !r.IsLeader));
        var keys = new[] { "b", "d", "f", "h", "j", "l", "n", "p", "r", "t", "v", "x" };
        await Task.WhenAll(keys.Select(k => cluster.Admin(via).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(k) }).ResponseAsync));
        var ranges = await WaitForRangesAsync(cluster, 1, keys.Length + 1);
        Assert.Equal(new[] { "" }.Concat(keys), ranges.Select(r => r.StartKey.ToStringUtf8()));
        // And the meta range recorded every one of them (what other nodes route by).
        await WaitForRangesAsync(cluster, 3, keys.Length + 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Split_RefusesAnEmptyKey_AndAKeyThatAlreadyStartsItsRange()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var empty = await Assert.ThrowsAsync<RpcException>(() => cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("empty", empty.Status.Detail, StringComparison.Ordinal);
        await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        var again = await Assert.ThrowsAsync<RpcException>(() =>
            cluster.Admin(2).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, again.StatusCode);
        Assert.Contains("already starts", again.Status.Detail, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RetriedWrite_AppliedBeforeTheSplit_IsNotAppliedAgainByTheNewRange()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var writeId = new Wire.WriteId { ClientId = 4242, Sequence = 7 };
        var first = await cluster.PutAsync("x", "once", writeId);
        await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        // "x" now lives in the right range, which inherited the left's client sessions.
        var retry = await cluster.PutAsync("x", "once", writeId);
        Assert.Equal(first.Version, retry.Version);
        var read = await cluster.GetAsync("x");
        Assert.Equal(first.Version, read.Version);
    }

    private static async Task<IReadOnlyList<Wire.RangeDescriptor>> WaitForRangesAsync(InProcessCluster cluster, int node, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var ranges = (await cluster.Admin(node).ListRangesAsync(new Wire.ListRangesRequest())).Ranges.ToList();
            if (ranges.Count == count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, ranges.Count);
                Assert.True(ranges[0].StartKey.IsEmpty, "the first range starts the key space");
                Assert.True(ranges[^1].EndKey.IsEmpty, "the last range ends it");
                for (int i = 1; i < ranges.Count; i++) Assert.Equal(ranges[i - 1].EndKey, ranges[i].StartKey);
                return ranges;
            }
            await Task.Delay(50);
        }
    }
}
