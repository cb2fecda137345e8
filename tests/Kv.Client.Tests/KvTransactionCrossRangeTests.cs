using Google.Protobuf;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary>Transactions over two ranges, on a cluster of their own (these tests split ranges), with both commit protocols.</summary>
public sealed class KvTransactionCrossRangeTests : IAsyncLifetime
{
    private const string Left = "bank/alice", Right = "bank/zoe", SplitAt = "bank/m";
    private readonly ClusterFixture _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    /// <summary>
    /// Two accounts in two ranges; two clients transfer between them concurrently (5 one way, 3 the other) while a
    /// third audits the total in read-only transactions: every audit sees 200 (atomic, isolated), and the final
    /// balances count every transfer once (no lost update).
    /// </summary>
    [Theory(Timeout = 90_000)]
    [InlineData(KvCommitProtocol.Paxos)]
    [InlineData(KvCommitProtocol.TwoPhase)]
    public async Task TransfersAcrossTwoRanges_AreAtomic_AndLoseNoUpdate(KvCommitProtocol protocol)
    {
        await using var client = await TwoAccountsInTwoRangesAsync();

        var options = new KvTransactionOptions { Protocol = protocol, MaxAttempts = 50 };
        async Task TransferAsync(KvClient kv, string from, string to, int times)
        {
            for (int i = 0; i < times; i++)
            {
                await kv.RunTransactionAsync(async tx =>
                {
                    int a = int.Parse((await tx.GetStringAsync(from))!), b = int.Parse((await tx.GetStringAsync(to))!);
                    await tx.PutAsync(from, (a - 1).ToString());
                    await tx.PutAsync(to, (b + 1).ToString());
                }, options);
            }
        }

        await using var one = ClusterFixture.NewClient(_cluster.Endpoints);
        await using var two = ClusterFixture.NewClient(_cluster.Endpoints);
        var transfers = Task.WhenAll(TransferAsync(one, Left, Right, 5), TransferAsync(two, Right, Left, 3));
        var totals = new List<int>();
        while (!transfers.IsCompleted)
        {
            totals.Add(await client.RunTransactionAsync(async tx =>
                int.Parse((await tx.GetStringAsync(Left))!) + int.Parse((await tx.GetStringAsync(Right))!), options));
        }
        await transfers;

        Assert.All(totals, t => Assert.Equal(200, t));
        Assert.Equal("98", await client.GetStringAsync(Left));
        Assert.Equal("102", await client.GetStringAsync(Right));
    }

    /// <summary>
    /// Lock-free read-only transactions while transfers run: each reads both accounts from one stable snapshot, never
    /// aborts (one attempt each), and always sees the total; a read-only transaction as of an older version sees the
    /// balances as they were then; writing in one throws.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task ReadOnlyTransactions_AreLockFree_AndAlwaysSeeOneSnapshot()
    {
        await using var client = await TwoAccountsInTwoRangesAsync();
        var leftVersion = (await client.GetAsync(Left))!.Version;
        var rightVersion = (await client.GetAsync(Right))!.Version;
        var before = leftVersion > rightVersion ? leftVersion : rightVersion; // both accounts opened by then
        var readOnly = new KvTransactionOptions { ReadOnly = true, MaxAttempts = 1 };
        var writes = new KvTransactionOptions { MaxAttempts = 50 };
        await using var writer = ClusterFixture.NewClient(_cluster.Endpoints);
        var transfers = Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
                await writer.RunTransactionAsync(async tx =>
                {
                    int a = int.Parse((await tx.GetStringAsync(Left))!), b = int.Parse((await tx.GetStringAsync(Right))!);
                    await tx.PutAsync(Left, (a - 1).ToString());
                    await tx.PutAsync(Right, (b + 1).ToString());
                }, writes);
        });
        int audits = 0;
        while (!transfers.IsCompleted || audits == 0)
        {
            int total = await client.RunTransactionAsync(async tx =>
                int.Parse((await tx.GetStringAsync(Left))!) + int.Parse((await tx.GetStringAsync(Right))!), readOnly);
            Assert.Equal(200, total);
            audits++;
        }
        await transfers;
        Assert.Equal("90", await client.GetStringAsync(Left));

        await using (var past = await client.BeginTransactionAsync(readOnly with { ReadTimestamp = before }))
        {
            Assert.Equal("100", await past.GetStringAsync(Left));
            Assert.Equal("100", await past.GetStringAsync(Right));
            Assert.Throws<InvalidOperationException>(() => { _ = past.PutAsync(Left, "1"); });
            await past.CommitAsync();
        }
    }

    /// <summary>Snapshot isolation: write skew is allowed (both commit), a lost update is not (first committer wins).</summary>
    [Fact(Timeout = 90_000)]
    public async Task SnapshotIsolation_AllowsWriteSkew_FirstCommitterWins()
    {
        await using var client = await TwoAccountsInTwoRangesAsync();
        var si = new KvTransactionOptions { Isolation = KvIsolation.Snapshot };
        await using var a = await client.BeginTransactionAsync(si);
        await using var b = await client.BeginTransactionAsync(si);
        Assert.Equal("100", await a.GetStringAsync(Right));
        Assert.Equal("100", await b.GetStringAsync(Left));
        await a.PutAsync(Left, "0");
        await b.PutAsync(Right, "0");
        await a.CommitAsync();
        await b.CommitAsync();

        await using var c = await client.BeginTransactionAsync(si);
        await using var d = await client.BeginTransactionAsync(si);
        Assert.Equal("0", await c.GetStringAsync(Left));
        Assert.Equal("0", await d.GetStringAsync(Left));
        await c.PutAsync(Left, "1");
        await d.PutAsync(Left, "2");
        await c.CommitAsync();
        await Assert.ThrowsAsync<KvTransactionConflictException>(() => d.CommitAsync());
        Assert.Equal("1", await client.GetStringAsync(Left));
    }

    /// <summary>A conflict on the range that is not the transaction's home range aborts the whole transaction: neither side is written.</summary>
    [Theory(Timeout = 90_000)]
    [InlineData(KvCommitProtocol.Paxos)]
    [InlineData(KvCommitProtocol.TwoPhase)]
    public async Task ConflictOnOneRange_WritesNeitherRange(KvCommitProtocol protocol)
    {
        await using var client = await TwoAccountsInTwoRangesAsync();

        await using var tx = await client.BeginTransactionAsync(new KvTransactionOptions { Protocol = protocol });
        Assert.Equal("100", await tx.GetStringAsync(Right));
        await tx.PutAsync(Left, "0");
        await tx.PutAsync(Right, "0");
        await client.PutAsync(Right, "150");
        var e = await Assert.ThrowsAsync<KvTransactionConflictException>(() => tx.CommitAsync());
        KvTransactionTests.AssertNamesKey(e, Right);
        Assert.Equal("100", await client.GetStringAsync(Left));
        Assert.Equal("150", await client.GetStringAsync(Right));
    }

    [Fact(Timeout = 90_000)]
    public async Task ScanAcrossTwoRanges_IsOneSnapshot_WithBufferedWrites()
    {
        await using var client = ClusterFixture.NewClient(_cluster.Endpoints);
        var keys = Enumerable.Range(0, 20).Select(i => $"bank/{(char)('a' + i)}").ToList();
        foreach (var k in keys) await client.PutAsync(k, "1");
        await SplitAsync();

        int total = await client.RunTransactionAsync(async tx =>
        {
            await tx.PutAsync("bank/b", "5");
            await tx.DeleteAsync("bank/c");
            await tx.PutAsync("bank/n2", "7");
            int sum = 0;
            await foreach (var e in tx.ScanPrefixAsync("bank/", new KvScanOptions { PageSize = 3 })) sum += int.Parse(e.ValueString);
            return sum;
        });
        Assert.Equal(20 + 4 - 1 + 7, total);
        Assert.Equal("7", await client.GetStringAsync("bank/n2"));
    }

    /// <summary>A client, after writing 100 to each account and splitting between them.</summary>
    private async Task<KvClient> TwoAccountsInTwoRangesAsync()
    {
        var client = ClusterFixture.NewClient(_cluster.Endpoints);
        await client.PutAsync(Left, "100");
        await client.PutAsync(Right, "100");
        await SplitAsync();
        return client;
    }

    /// <summary>Splits at <see cref="SplitAt"/> and checks that the two accounts are now in different ranges.</summary>
    private async Task SplitAsync()
    {
        using var channel = GrpcChannel.ForAddress(_cluster.Endpoints[0]);
        var admin = new Admin.AdminClient(channel);
        await admin.SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(SplitAt) });
        var ranges = (await admin.ListRangesAsync(new ListRangesRequest())).Ranges;
        RangeDescriptor Holding(string key) => ranges.Single(r =>
            r.StartKey.Span.SequenceCompareTo(ByteString.CopyFromUtf8(key).Span) <= 0
            && (r.EndKey.IsEmpty || ByteString.CopyFromUtf8(key).Span.SequenceCompareTo(r.EndKey.Span) < 0));
        Assert.NotEqual(Holding(Left).RangeId, Holding(Right).RangeId);
    }
}
