using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Ranges;
using Kv.Storage.Encoding;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Node;

/// <summary>Log compaction, catch-up by snapshot (state plus data copied from a peer), and rebuilding corrupt data.</summary>
public sealed class SnapshotRecoveryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output = output;

    [Fact(Timeout = 90_000)]
    public async Task NodeBehindACompactedLog_CatchesUpBySnapshot_WithEveryKey()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 20 });
        for (int i = 0; i < 30; i++) await cluster.PutAsync($"before/{i:D3}", $"v{i}");
        await cluster.StopNodeAsync(3);
        // Enough writes for the two remaining replicas to compact past everything node 3 has.
        for (int i = 0; i < 200; i++) await cluster.PutAsync($"k/{i:D3}", $"v{i}");
        await cluster.PutAsync("before/005", "overwritten");
        var leader = LeaderOf(cluster, RangeIds.FirstUser, [1, 2]);
        var status = leader.Host.Replicas().Single(r => r.RangeId == RangeIds.FirstUser);
        Assert.True(leader.Host.Replicas().Single(r => r.RangeId == RangeIds.FirstUser).LogEntries < 100, "the leader compacted its log");

        await cluster.StartNodeAsync(3);
        var node3 = cluster.Node(3);
        await WaitUntilAsync(() => node3.Host.Replicas().Single(r => r.RangeId == RangeIds.FirstUser).AppliedUpTo >= status.AppliedUpTo
            && !node3.Host.IsRestoring(RangeIds.FirstUser), TimeSpan.FromSeconds(30));

        // Node 3's own copy holds every key, including those written while it was down.
        for (int i = 0; i < 200; i++) Assert.Equal($"v{i}", ReadLocal(node3, $"k/{i:D3}"));
        Assert.Equal("overwritten", ReadLocal(node3, "before/005"));
        Assert.Equal("v7", ReadLocal(node3, "before/007"));
    }

    [Fact(Timeout = 90_000)]
    public async Task LogHoldingManyBytes_IsCompactedBeforeItsEntryCountIsReached()
    {
        // 10,000 entries would never be reached here; 64 KiB is reached after ~32 puts of 2 KB, and the log is then
        // compacted every hundredth of the entry threshold (100 entries) at most.
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 10_000, LogCompactionBytes = 64 * 1024 });
        string value = new('v', 2_000);
        for (int i = 0; i < 300; i++) await cluster.PutAsync($"big/{i:D3}", value);
        var leader = LeaderOf(cluster, RangeIds.FirstUser, [1, 2, 3]);
        var status = await WaitForAsync(() => leader.Host.Replicas().Single(r => r.RangeId == RangeIds.FirstUser),
            s => s.LogEntries < 150, TimeSpan.FromSeconds(10));
        _output.WriteLine($"applied {status.AppliedUpTo}, log entries {status.LogEntries}, log bytes {status.LogBytes}");
        Assert.True(status.LogEntries < 150, $"the log holds {status.LogEntries} entries ({status.LogBytes} bytes) after 300 puts of 2 KB");
        Assert.True(status.LogBytes < 150 * 2_100, $"the log holds {status.LogBytes} bytes");
        for (int i = 0; i < 300; i += 37) Assert.Equal(value, ReadLocal(leader, $"big/{i:D3}"));
    }

    [Fact(Timeout = 90_000)]
    public async Task CrashedLeader_RestartedUnderLoad_CatchesUpBySnapshot()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 20 });
        using var stop = new CancellationTokenSource();
        int written = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await cluster.PutAsync($"load/{written:D6}", "v");
                written++;
            }
        });
        while (written < 100) await Task.Delay(10);
        var leader = LeaderOf(cluster, RangeIds.FirstUser, [1, 2, 3]);
        int id = (int)leader.Options.NodeId;
        await cluster.StopNodeAsync(id, crash: true);
        int atCrash = written;
        while (written < atCrash + 200) await Task.Delay(10);
        foreach (int other in new[] { 1, 2, 3 }.Where(n => n != id))
            _output.WriteLine($"node {other}: " + string.Join(" ", cluster.Node(other).Host.Replicas().Select(r => $"r{r.RangeId} leader={r.IsLeader} chosen={r.ChosenPrefix} applied={r.AppliedUpTo} log={r.LogEntries}")));
        await cluster.StartNodeAsync(id, l => l.AddProvider(new Kv.Server.Tests.Peers.TestOutputLoggerProvider(_output)));
        var node = cluster.Node(id);
        _output.WriteLine($"restarted node {id}: " + string.Join(" ", node.Host.Replicas().Select(r => $"r{r.RangeId} chosen={r.ChosenPrefix} applied={r.AppliedUpTo} log={r.LogEntries}")));
        try
        {
            await WaitUntilAsync(() => ReadLocalOrNull(node, $"load/{atCrash + 150:D6}") == "v", TimeSpan.FromSeconds(20));
        }
        finally
        {
            await stop.CancelAsync();
            await load;
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task CorruptValueOnTheLeader_FailsTheRead_ThenTheReplicaIsRebuiltFromItsPeers()
    {
        // Compaction keeps only the last few entries, so the damaged version cannot be replayed from the log: the
        // rebuild must copy the data from a peer.
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 5 });
        for (int i = 0; i < 20; i++) await cluster.PutAsync($"c/{i:D2}", $"value-{i}");
        for (int i = 0; i < 20; i++) await cluster.PutAsync($"other/{i:D2}", "x");
        var leader = LeaderOf(cluster, RangeIds.FirstUser, [1, 2, 3]);
        Corrupt(leader, "c/07");

        // The leader serves reads; the first read of the damaged key must fail loudly rather than return garbage.
        int leaderId = (int)leader.Options.NodeId;
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            cluster.Kv(leaderId).GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8("c/07") }).ResponseAsync);
        Assert.Equal(StatusCode.DataLoss, error.StatusCode);

        await WaitUntilAsync(() => !leader.Host.IsRestoring(RangeIds.FirstUser) && ReadLocalOrNull(leader, "c/07") == "value-7", TimeSpan.FromSeconds(30));
        for (int i = 0; i < 20; i++) Assert.Equal($"value-{i}", (await cluster.GetAsync($"c/{i:D2}")).Value.ToStringUtf8());
        await cluster.PutAsync("c/after", "works");
        Assert.Equal("works", ReadLocal(leader, "c/after"));
    }

    [Fact(Timeout = 90_000)]
    public async Task NodeThatSkippedASplitBySnapshot_AdoptsTheNewRange_AndGetsItsData()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 20, SplitCheckIntervalMs = 200 });
        for (int i = 0; i < 10; i++) await cluster.PutAsync($"a/{i:D3}", "early");
        await cluster.StopNodeAsync(3);
        var split = await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        for (int i = 0; i < 100; i++)
        {
            await cluster.PutAsync($"a/{i:D3}", $"left-{i}");
            await cluster.PutAsync($"z/{i:D3}", $"right-{i}");
        }
        await cluster.StartNodeAsync(3);
        var node3 = cluster.Node(3);
        // Node 3 learns the split only from the left range's snapshot, so it must create the right range itself.
        await WaitUntilAsync(() => node3.Host.Hosts(split.Right.RangeId)
            && node3.Host.Replicas().Single(r => r.RangeId == split.Right.RangeId).AppliedUpTo > 0
            && !node3.Host.IsRestoring(split.Right.RangeId) && !node3.Host.IsRestoring(split.Left.RangeId)
            && ReadLocalOrNull(node3, "z/099") == "right-99" && ReadLocalOrNull(node3, "a/099") == "left-99", TimeSpan.FromSeconds(40));
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal($"left-{i}", ReadLocal(node3, $"a/{i:D3}"));
            Assert.Equal($"right-{i}", ReadLocal(node3, $"z/{i:D3}"));
        }
        Assert.Equal("m", node3.Host.Replicas().Single(r => r.RangeId == split.Left.RangeId).Descriptor.EndKey.ToStringUtf8());
    }

    [Fact(Timeout = 90_000)]
    public async Task CorruptValueMetWhileApplying_RebuildsThatReplica_AndTheNodeKeepsServing()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o with { LogCompactionEntries = 5 });
        await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        for (int i = 0; i < 20; i++) await cluster.PutAsync($"d/{i:D2}", $"value-{i}");
        await cluster.PutAsync("z/other-range", "before");
        var leader = LeaderOf(cluster, RangeIds.FirstUser, [1, 2, 3]);
        Corrupt(leader, "d/03");

        // A delete reads the key's current version while it is applied: on the leader that read meets the damage.
        int leaderId = (int)leader.Options.NodeId;
        await cluster.AnyNodeAsync(c => c.DeleteAsync(new Wire.DeleteRequest { Key = ByteString.CopyFromUtf8("d/03") }, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);
        // The node's other range kept working throughout, and the damaged replica is rebuilt.
        await cluster.PutAsync("z/other-range", "after");
        await WaitUntilAsync(() => !leader.Host.IsRestoring(RangeIds.FirstUser) && ReadLocalOrNull(leader, "d/04") == "value-4", TimeSpan.FromSeconds(30));
        Assert.False((await cluster.GetAsync("d/03")).Found);
        Assert.Equal("after", (await cluster.GetAsync("z/other-range")).Value.ToStringUtf8());
        for (int i = 4; i < 20; i++) Assert.Equal($"value-{i}", (await cluster.GetAsync($"d/{i:D2}")).Value.ToStringUtf8());
        // The leader's own copy is whole again (the deleted key reads as absent, not as corrupt), and it still
        // applies new writes: its replica loop survived.
        Assert.False(leader.Mvcc.Get(System.Text.Encoding.UTF8.GetBytes("d/03"), Timestamp.Max).HasValue);
        await cluster.PutAsync("d/05", "new");
        await WaitUntilAsync(() => ReadLocalOrNull(leader, "d/05") == "new", TimeSpan.FromSeconds(10));
    }

    private static Kv.Server.Node.KvNode LeaderOf(InProcessCluster cluster, ulong rangeId, int[] nodes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            foreach (int id in nodes)
                if (cluster.Node(id).Host.Replicas().Single(r => r.RangeId == rangeId).IsLeader) return cluster.Node(id);
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no leader");
            Thread.Sleep(20);
        }
    }

    private static string ReadLocal(Kv.Server.Node.KvNode node, string key) =>
        ReadLocalOrNull(node, key) ?? throw new Xunit.Sdk.XunitException($"node {node.Options.NodeId} has no {key}");

    private static string? ReadLocalOrNull(Kv.Server.Node.KvNode node, string key)
    {
        try
        {
            var read = node.Mvcc.Get(System.Text.Encoding.UTF8.GetBytes(key), Timestamp.Max);
            return read.HasValue ? System.Text.Encoding.UTF8.GetString(read.Value!) : null;
        }
        catch (Kv.Storage.StorageCorruptionException)
        {
            return null;
        }
    }

    /// <summary>Overwrites the newest stored version of <paramref name="key"/> with bytes that fail its checksum.</summary>
    private static void Corrupt(Kv.Server.Node.KvNode node, string key)
    {
        var store = node.Store;
        byte[] prefix = KeyEncoding.UserKeyPrefix(System.Text.Encoding.UTF8.GetBytes(key));
        using var iterator = store.Db.NewIterator(store.Data);
        iterator.Seek(prefix);
        Assert.True(iterator.Valid() && iterator.Key().AsSpan().StartsWith(prefix), "the key is stored");
        byte[] value = iterator.Value();
        value[^1] ^= 0xFF;
        store.Db.Put(iterator.Key(), value, store.Data, store.SyncWrite);
    }

    // Compaction runs on the replica loop after the apply, so the status may trail the last put's answer briefly.
    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var value = read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            value = read();
        }
        return value;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(50);
        }
    }
}
