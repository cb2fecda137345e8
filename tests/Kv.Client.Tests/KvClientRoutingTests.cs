using Google.Protobuf;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary>Routing by the client's range map, on a cluster of its own (these tests split ranges).</summary>
public sealed class KvClientRoutingTests : IAsyncLifetime
{
    private readonly ClusterFixture _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Fact(Timeout = 60_000)]
    public async Task AfterASplit_EachKeyGoesStraightToItsRangesLeader()
    {
        // Two neighbouring ranges led by different nodes: a client that tracked one leader for everything would
        // be redirected on every switch between them.
        var (left, right) = await TwoRangesWithDifferentLeadersAsync();
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(_cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        string leftKey = left.StartKey.ToStringUtf8() + "/k", rightKey = right.StartKey.ToStringUtf8() + "/k";
        // Warm up: the range map loads in the background, and each range's leader is learned once.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await client.PutAsync(leftKey, "w");
            await client.PutAsync(rightKey, "w");
            int before = attempts.Total;
            await client.PutAsync(leftKey, "w");
            await client.PutAsync(rightKey, "w");
            if (attempts.Total - before == 2) break;
            Assert.True(DateTime.UtcNow < deadline, "the client kept being redirected");
            await Task.Delay(50);
        }
        int start = attempts.Total;
        for (int i = 0; i < 50; i++)
        {
            await client.PutAsync(leftKey, $"l{i}");
            await client.PutAsync(rightKey, $"r{i}");
            Assert.Equal($"l{i}", await client.GetStringAsync(leftKey));
        }
        Assert.Equal(150, attempts.Total - start);
    }

    [Fact(Timeout = 60_000)]
    public async Task ScanAcrossRanges_ReturnsEveryKeyOnce_InOrder()
    {
        await using var client = ClusterFixture.NewClient(_cluster.Endpoints);
        var keys = Enumerable.Range(0, 60).Select(i => $"scan/{i:D3}").ToList();
        foreach (var k in keys) await client.PutAsync(k, "v");
        using (var channel = GrpcChannel.ForAddress(_cluster.Endpoints[0]))
        {
            var admin = new Admin.AdminClient(channel);
            foreach (var at in new[] { "scan/010", "scan/025", "scan/040" })
                await admin.SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(at) });
        }
        var forward = await client.ScanPrefixAsync("scan/", new KvScanOptions { PageSize = 7 }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(keys, forward);
        var reverse = await client.ScanPrefixAsync("scan/", new KvScanOptions { PageSize = 7, Reverse = true }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(Enumerable.Reverse(keys), reverse);
    }

    private async Task<(RangeDescriptor Left, RangeDescriptor Right)> TwoRangesWithDifferentLeadersAsync()
    {
        using var channel = GrpcChannel.ForAddress(_cluster.Endpoints[0]);
        var admin = new Admin.AdminClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (char c = 'b'; ; c++)
        {
            await admin.SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(c.ToString()) });
            // Each new range elects its own leader; wait for one, then compare with its left neighbour's.
            while (DateTime.UtcNow < deadline)
            {
                var leaders = new Dictionary<ulong, ulong>();
                foreach (var endpoint in _cluster.Endpoints)
                {
                    using var ch = GrpcChannel.ForAddress(endpoint);
                    var status = await new Admin.AdminClient(ch).NodeStatusAsync(new NodeStatusRequest());
                    foreach (var r in status.Replicas.Where(r => r.IsLeader)) leaders[r.Range.RangeId] = status.NodeId;
                }
                var ranges = (await admin.ListRangesAsync(new ListRangesRequest())).Ranges;
                var right = ranges.Single(r => r.StartKey.ToStringUtf8() == c.ToString());
                var left = ranges.Single(r => r.EndKey == right.StartKey);
                if (leaders.TryGetValue(left.RangeId, out var l) && leaders.TryGetValue(right.RangeId, out var rl))
                {
                    if (l != rl) return (left, right);
                    break; // same leader: split once more
                }
                await Task.Delay(50);
            }
            Assert.True(DateTime.UtcNow < deadline, "no two neighbouring ranges with different leaders");
        }
    }
}
