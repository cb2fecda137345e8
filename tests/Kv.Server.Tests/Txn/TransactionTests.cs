using Google.Protobuf;
using Kv.Server.Tests.Node;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>Transactions across ranges on a 3-node in-process cluster, with both commit protocols.</summary>
public sealed class TransactionTests
{
    public static TheoryData<Wire.CommitProtocol> Protocols => new() { Wire.CommitProtocol.Paxos, Wire.CommitProtocol.TwoPhase };

    internal static async Task<InProcessCluster> SplitClusterAsync(string[]? splitKeys = null,
        Func<int, Kv.Txn.Coordination.ITxnFailPoints?>? failPoints = null, Func<Kv.Server.Configuration.NodeOptions, Kv.Server.Configuration.NodeOptions>? configure = null)
    {
        splitKeys ??= ["g", "n", "t"];
        var cluster = await InProcessCluster.StartAsync(configure, failPoints: failPoints);
        foreach (var key in splitKeys)
            await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) });
        // Every node routes by the new ranges before the test starts.
        foreach (int id in new[] { 1, 2, 3 })
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await cluster.Admin(id).ListRangesAsync(new Wire.ListRangesRequest())).Ranges.Count < splitKeys.Length + 1 && DateTime.UtcNow < deadline)
                await Task.Delay(20);
        }
        return cluster;
    }

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(Protocols))]
    public async Task Commit_WritesInFourRanges_AreAllVisibleAtTheCommitTimestamp(Wire.CommitProtocol protocol)
    {
        await using var cluster = await SplitClusterAsync();
        await cluster.PutAsync("c", "old");
        var txn = await TxnDriver.BeginAsync(cluster, node: 2);
        Assert.Equal("old", await txn.GetAsync("c"));
        txn.Put("c", "new-c");
        txn.Put("h", "new-h");
        txn.Put("p", "new-p");
        txn.Put("x", "new-x");
        Assert.Equal("new-c", await txn.GetAsync("c")); // its own write
        var committed = await txn.CommitAsync(protocol, node: 3);
        Assert.NotNull(committed);
        foreach (var key in new[] { "c", "h", "p", "x" })
        {
            var read = await cluster.GetAsync(key);
            Assert.Equal("new-" + key, read.Value.ToStringUtf8());
            Assert.Equal(committed, read.Version);
        }
    }

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(Protocols))]
    public async Task Commit_AfterAReadKeyChanged_AbortsAndWritesNothing(Wire.CommitProtocol protocol)
    {
        await using var cluster = await SplitClusterAsync();
        await cluster.PutAsync("a", "1");
        var txn = await TxnDriver.BeginAsync(cluster);
        Assert.Equal("1", await txn.GetAsync("a"));
        await cluster.PutAsync("a", "2"); // someone else writes what the transaction read
        txn.Put("z", "depends-on-a=1");
        Assert.Null(await txn.CommitAsync(protocol));
        Assert.False((await cluster.GetAsync("z")).Found);
        // The aborted transaction left no lock behind: a plain write of z goes through.
        await cluster.PutAsync("z", "free");
        Assert.Equal("free", (await cluster.GetAsync("z")).Value.ToStringUtf8());
    }

    [Fact(Timeout = 90_000)]
    public async Task TwoConcurrentReadModifyWrites_OfOneKey_OnlyOneCommits()
    {
        await using var cluster = await SplitClusterAsync();
        await cluster.PutAsync("counter", "0");
        var first = await TxnDriver.BeginAsync(cluster);
        var second = await TxnDriver.BeginAsync(cluster, node: 2);
        Assert.Equal("0", await first.GetAsync("counter"));
        Assert.Equal("0", await second.GetAsync("counter"));
        first.Put("counter", "1");
        second.Put("counter", "1");
        first.Put("a-first", "x");
        second.Put("z-second", "x");
        var results = await Task.WhenAll(first.CommitAsync(node: 1), second.CommitAsync(node: 2));
        // Never both (a lost update). Possibly neither: an older transaction refused by a younger one's lock aborts
        // the younger one (wound-wait) and retries.
        int committed = results.Count(r => r is not null);
        Assert.InRange(committed, 0, 1);
        Assert.Equal(committed == 1 ? "1" : "0", (await cluster.GetAsync("counter")).Value.ToStringUtf8());
        Assert.Equal(results[0] is not null, (await cluster.GetAsync("a-first")).Found);
        Assert.Equal(results[1] is not null, (await cluster.GetAsync("z-second")).Found);
    }

    [Fact(Timeout = 90_000)]
    public async Task WriteSkew_IsPrevented_ByReadValidation()
    {
        // Two on-call doctors; each transaction takes one off call if the other is on call. Serializable: not both.
        await using var cluster = await SplitClusterAsync();
        await cluster.PutAsync("alice", "on");
        await cluster.PutAsync("zoe", "on");
        var a = await TxnDriver.BeginAsync(cluster);
        var z = await TxnDriver.BeginAsync(cluster, node: 2);
        Assert.Equal("on", await a.GetAsync("zoe"));
        Assert.Equal("on", await z.GetAsync("alice"));
        a.Put("alice", "off");
        z.Put("zoe", "off");
        var first = await a.CommitAsync();
        var second = await z.CommitAsync(node: 2);
        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Equal("on", (await cluster.GetAsync("zoe")).Value.ToStringUtf8());
    }

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(Protocols))]
    public async Task Scan_AcrossRanges_AndAPhantomInsertedAfterIt_AbortsTheCommit(Wire.CommitProtocol protocol)
    {
        await using var cluster = await SplitClusterAsync(["m"]);
        foreach (var key in new[] { "item-a", "item-b", "item-x" }) await cluster.PutAsync(key, "1");
        await cluster.PutAsync("zz-other", "1"); // outside the scanned span

        var counting = await TxnDriver.BeginAsync(cluster);
        var items = await counting.ScanAsync("item-", "item.");
        Assert.Equal(["item-a", "item-b", "item-x"], items.Select(i => i.Key));
        counting.Put("count", items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await cluster.PutAsync("item-c", "1"); // a phantom: the count would be stale
        Assert.Null(await counting.CommitAsync(protocol));
        Assert.False((await cluster.GetAsync("count")).Found);

        // A write outside the span does not disturb a second attempt.
        var again = await TxnDriver.BeginAsync(cluster);
        var now = await again.ScanAsync("item-", "item.");
        Assert.Equal(4, now.Count);
        again.Put("count", "4");
        await cluster.PutAsync("zz-other", "2");
        Assert.NotNull(await again.CommitAsync(protocol));
        Assert.Equal("4", (await cluster.GetAsync("count")).Value.ToStringUtf8());
        // The span lock is gone: a plain write into the span goes through.
        await cluster.PutAsync("item-d", "1");
    }

    [Fact(Timeout = 90_000)]
    public async Task SnapshotIsolation_AllowsWriteSkew_ButNotLostUpdates()
    {
        await using var cluster = await SplitClusterAsync(["m"]);
        await cluster.PutAsync("alice", "on");
        await cluster.PutAsync("zoe", "on");
        var a = await TxnDriver.BeginAsync(cluster, snapshotIsolation: true);
        var z = await TxnDriver.BeginAsync(cluster, node: 2, snapshotIsolation: true);
        Assert.Equal("on", await a.GetAsync("zoe"));
        Assert.Equal("on", await z.GetAsync("alice"));
        a.Put("alice", "off");
        z.Put("zoe", "off");
        // Write skew: snapshot isolation lets both commit (serializable would refuse one: WriteSkew_IsPrevented_ByReadValidation).
        Assert.NotNull(await a.CommitAsync());
        Assert.NotNull(await z.CommitAsync(node: 2));

        await cluster.PutAsync("counter", "0");
        var first = await TxnDriver.BeginAsync(cluster, snapshotIsolation: true);
        var second = await TxnDriver.BeginAsync(cluster, node: 2, snapshotIsolation: true);
        Assert.Equal("0", await first.GetAsync("counter"));
        Assert.Equal("0", await second.GetAsync("counter"));
        first.Put("counter", "1");
        second.Put("counter", "1");
        Assert.NotNull(await first.CommitAsync());
        Assert.Null(await second.CommitAsync(node: 2)); // first committer wins
    }

    [Fact(Timeout = 90_000)]
    public async Task StableRead_ClosesTheRange_SoALaterCommitBelowItIsRefused_AndTheSnapshotNeverChanges()
    {
        await using var cluster = await SplitClusterAsync(["m"]);
        await cluster.PutAsync("k", "before");
        // A writer picks its commit timestamp; a reader then reads stably at a later timestamp.
        var writer = await TxnDriver.BeginAsync(cluster);
        Assert.Equal("before", await writer.GetAsync("k"));
        writer.Put("k", "after");
        var reader = await TxnDriver.BeginAsync(cluster, node: 2, stable: true);
        Assert.Equal("before", await reader.GetAsync("k"));
        // The writer commits now, above the reader's closed timestamp (its commit timestamp comes from the clock now).
        Assert.NotNull(await writer.CommitAsync());
        // The reader's snapshot still says "before": the commit landed above it.
        var again = await TxnDriver.BeginAsync(cluster, node: 3, stable: true);
        Assert.Equal("after", await again.GetAsync("k"));
        var sameSnapshot = await cluster.AnyNodeAsync(kv => kv.GetAsync(new Wire.GetRequest
        {
            Key = ByteString.CopyFromUtf8("k"), Consistency = Wire.ReadConsistency.Snapshot, ReadTimestamp = reader.ReadTimestamp,
        }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
        Assert.Equal("before", sameSnapshot.Value.ToStringUtf8());
    }
}
