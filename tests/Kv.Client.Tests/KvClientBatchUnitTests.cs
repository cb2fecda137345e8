using Grpc.Core;
using Kv.Client.Tests.Fakes;

namespace Kv.Client.Tests;

/// <summary>GetMany and PutMany against a <see cref="FakeKvCluster"/>: grouping, splitting, retries and failure reports, without a server.</summary>
public sealed class KvClientBatchUnitTests
{
    private const string A = "http://a.fake:1", B = "http://b.fake:1", C = "http://c.fake:1";

    private static KvClient NewClient(FakeKvCluster cluster, Action<KvClientOptions>? configure = null)
    {
        var options = new KvClientOptions
        {
            OverallDeadline = TimeSpan.FromSeconds(20),
            RetryAttemptsMax = 20,
            RetryBackoff = TimeSpan.Zero,
            RetryBackoffMax = TimeSpan.Zero,
            HttpHandlerFactory = cluster.Handler,
        };
        configure?.Invoke(options);
        return new KvClient(cluster.Endpoints, options);
    }

    /// <summary>Two ranges led by different nodes: 1,250 keys each, interleaved, some missing.</summary>
    private static FakeKvCluster TwoRanges()
    {
        var cluster = new FakeKvCluster(A, B, C);
        cluster.Ranges = [cluster.Range(1, "", "m"), cluster.Range(2, "m", "")];
        cluster.LeaderOf = range => range == 1 ? A : B;
        return cluster;
    }

    [Fact(Timeout = 30_000)]
    public async Task GetMany_GroupsByRange_SplitsAt1000_AnswersInInputOrder()
    {
        var cluster = TwoRanges();
        var keys = Enumerable.Range(0, 2_500).Select(i => i % 2 == 0 ? $"a/{i:D4}" : $"z/{i:D4}").ToList();
        foreach (var k in keys.Where((_, i) => i % 3 != 0)) cluster.Seed(k, "v" + k);
        await using var client = NewClient(cluster);

        var entries = await client.GetManyAsync(keys);

        Assert.Equal(keys.Count, entries.Count);
        for (int i = 0; i < keys.Count; i++)
        {
            if (i % 3 == 0) Assert.Null(entries[i]);
            else Assert.Equal("v" + keys[i], entries[i]!.ValueString);
        }
        var served = cluster.Batches;
        Assert.All(served, b => Assert.InRange(b.Operations, 1, 1_000));
        Assert.Equal(1_250, served.Where(b => b.Endpoint == A).Sum(b => b.Operations));
        Assert.Equal(1_250, served.Where(b => b.Endpoint == B).Sum(b => b.Operations));
        Assert.Equal(4, served.Count); // 1,000 + 250 per range
        Assert.Empty(await client.GetManyAsync(Array.Empty<string>()));
    }

    [Fact(Timeout = 30_000)]
    public async Task PutMany_SplitsByOperationsMax_AndTheLastPutOfAKeyWins()
    {
        var cluster = TwoRanges();
        await using var client = NewClient(cluster, o => o.BatchOperationsMax = 7);
        var entries = Enumerable.Range(0, 50).Select(i => (Key: i % 2 == 0 ? $"a/{i % 10}" : $"z/{i:D2}", Value: $"v{i}")).ToList();

        await client.PutManyAsync(entries);

        Assert.All(cluster.Batches, b => Assert.InRange(b.Operations, 1, 7));
        Assert.Equal(50, cluster.Batches.Sum(b => b.Operations));
        for (int k = 0; k < 10; k += 2) Assert.Equal($"v{40 + k}", await client.GetStringAsync($"a/{k}")); // puts of one key apply in input order
        Assert.Equal("v49", await client.GetStringAsync("z/49"));
    }

    /// <summary>
    /// The answer of the first batch is lost after the node applied all 40 puts. The retry sends the same write ids:
    /// the node refuses the older ones as stale (applied before), the client moves past each, and the last is
    /// answered from the session. Every put is applied exactly once.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task PutMany_FirstAnswerLost_RetryAppliesEachPutOnce()
    {
        var cluster = new FakeKvCluster(A, B, C) { LoseAnswer = (method, n) => method == "/kv.v1.Kv/Batch" && n == 1 };
        await using var client = NewClient(cluster);
        var entries = Enumerable.Range(0, 40).Select(i => ($"k/{i:D2}", $"v{i}")).ToList();

        await client.PutManyAsync(entries);

        Assert.All(entries, e => Assert.Equal(1, cluster.AppliedCount(e.Item1)));
        var read = await client.GetManyAsync(entries.Select(e => e.Item1));
        Assert.Equal(entries.Select(e => e.Item2), read.Select(e => e!.ValueString));
    }

    /// <summary>
    /// The range map is stale (loaded before a split the client does not know about): the batch sent for one range
    /// stops at the first key of the other with NotLeader. The client keeps what was applied, reloads the map, and
    /// sends the rest to each range's leader; every put applies once.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task PutMany_StaleRangeMap_StopsMidBatch_ResumesAtTheFailedPut()
    {
        var cluster = new FakeKvCluster(A, B, C);
        await using var client = NewClient(cluster);
        await client.PutAsync("a/warm", "x"); // loads the one-range map
        await Task.Delay(1_100); // let the map's next scheduled refresh come due, so only the stale answer triggers one
        cluster.Ranges = [cluster.Range(2, "", "m"), cluster.Range(3, "m", "")];
        cluster.LeaderOf = range => range == 2 ? A : B;
        var entries = Enumerable.Range(0, 30).Select(i => (i % 3 == 2 ? $"z/{i:D2}" : $"a/{i:D2}", $"v{i}")).ToList();

        await client.PutManyAsync(entries);

        Assert.All(entries, e => Assert.Equal(1, cluster.AppliedCount(e.Item1)));
        Assert.Equal(entries.Select(e => e.Item2), (await client.GetManyAsync(entries.Select(e => e.Item1))).Select(e => e!.ValueString));
    }

    [Fact(Timeout = 30_000)]
    public async Task PutMany_APutFails_TheErrorNamesItsKey_AndReportsWhatApplied()
    {
        var cluster = new FakeKvCluster(A, B, C)
        {
            FailPut = key => key == "k/5" ? FakeKvCluster.Error(StatusCode.Internal, "disk on fire", null) : null,
        };
        await using var client = NewClient(cluster);
        var entries = Enumerable.Range(0, 10).Select(i => ($"k/{i}", $"v{i}")).ToList();

        var e = await Assert.ThrowsAsync<KvBatchException>(() => client.PutManyAsync(entries));

        Assert.Equal(5, e.Index);
        Assert.Equal("k/5", System.Text.Encoding.UTF8.GetString(e.Key.Span));
        Assert.Equal(KvErrorCode.Internal, e.Code);
        Assert.Contains("'k/5'", e.Message, StringComparison.Ordinal);
        Assert.Contains("transaction", e.Message, StringComparison.Ordinal);
        Assert.True(e.WriteMayHaveApplied);
        var expected = Enumerable.Repeat(KvWriteOutcome.Applied, 5).Append(KvWriteOutcome.MayHaveApplied).Concat(Enumerable.Repeat(KvWriteOutcome.NotApplied, 4));
        Assert.Equal(expected, e.WriteOutcomes);
        Assert.Equal(0, cluster.AppliedCount("k/6"));
    }

    [Fact(Timeout = 30_000)]
    public async Task PutMany_InvalidKey_RefusesTheBatch_NamingTheKeysPosition()
    {
        var cluster = new FakeKvCluster(A, B, C);
        await using var client = NewClient(cluster);
        var entries = Enumerable.Range(0, 6).Select(i => (i == 3 ? "" : $"k/{i}", "v")).ToList();

        var e = await Assert.ThrowsAsync<KvBatchException>(() => client.PutManyAsync(entries));

        Assert.Equal(3, e.Index);
        Assert.Equal(KvErrorCode.InvalidArgument, e.Code);
        Assert.Equal("operations[3].put.key", Assert.IsType<KvInvalidArgumentException>(e.InnerException).Field);
        Assert.All(e.WriteOutcomes, o => Assert.Equal(KvWriteOutcome.NotApplied, o));
        Assert.False(e.WriteMayHaveApplied);
    }
}
