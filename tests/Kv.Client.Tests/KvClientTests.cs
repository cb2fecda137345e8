using System.Text;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary>Every operation of <see cref="KvClient"/> against a real 3-node cluster in this process.</summary>
[Collection(ClusterCollection.Name)]
public sealed class KvClientTests(ClusterFixture cluster)
{
    private static string Unique(string name) => $"{name}/{Guid.NewGuid():N}";

    [Fact(Timeout = 30_000)]
    public async Task PutGetDelete_RoundTrip_NotFoundIsNull()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("crud");
        Assert.Null(await client.GetAsync(key));

        var v1 = await client.PutAsync(key, "one");
        var entry = await client.GetAsync(key);
        Assert.NotNull(entry);
        Assert.Equal("one", entry.ValueString);
        Assert.Equal(key, entry.KeyString);
        Assert.Equal(v1, entry.Version);

        var v2 = await client.PutAsync(Encoding.UTF8.GetBytes(key), new byte[] { 0, 1, 2, 255 });
        Assert.True(v2 > v1);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, (await client.GetAsync(Encoding.UTF8.GetBytes(key)))!.Value.ToArray());

        Assert.True(await client.DeleteAsync(key));
        Assert.False(await client.DeleteAsync(key));
        Assert.Null(await client.GetStringAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task CompareAndSet_AbsentVersionValue_FailedConditionReturnsCurrent()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("cas");

        var created = await client.CompareAndSetAsync(key, KvCondition.Absent, "a");
        Assert.True(created.Succeeded);
        Assert.NotNull(created.NewVersion);

        var again = await client.CompareAndSetAsync(key, KvCondition.Absent, "b");
        Assert.False(again.Succeeded);
        Assert.Equal("a", again.Current!.ValueString);
        Assert.Equal(created.NewVersion, again.Current.Version);

        var byVersion = await client.CompareAndSetAsync(key, KvCondition.Version(created.NewVersion!.Value), "c");
        Assert.True(byVersion.Succeeded);
        var staleVersion = await client.CompareAndSetAsync(key, KvCondition.Version(created.NewVersion.Value), "x");
        Assert.False(staleVersion.Succeeded);
        Assert.Equal("c", staleVersion.Current!.ValueString);

        Assert.False((await client.CompareAndSetAsync(key, KvCondition.Value("nope"), "x")).Succeeded);
        var byValue = await client.CompareAndSetAsync(key, KvCondition.Value("c"), "d");
        Assert.True(byValue.Succeeded);
        Assert.Equal("d", await client.GetStringAsync(key));

        var deleted = await client.CompareAndSetAsync(key, KvCondition.Value("d"), newValue: null);
        Assert.True(deleted.Succeeded);
        Assert.Null(await client.GetAsync(key));
        var onAbsent = await client.CompareAndSetAsync(key, KvCondition.Value("d"), "e");
        Assert.False(onAbsent.Succeeded);
        Assert.Null(onAbsent.Current);
    }

    /// <summary>An empty value is a value (the API allows 0 to 4 MiB): Get must find it.</summary>
    [Fact(Timeout = 30_000)]
    public async Task EmptyValue_IsFound()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("empty");
        await client.PutAsync(key, "");
        var entry = await client.GetAsync(key);
        Assert.NotNull(entry);
        Assert.Equal(0, entry.Value.Length);
    }

    /// <summary>Raw wire check of the last step above: a failed CAS on a deleted key must answer found = false.</summary>
    [Fact(Timeout = 30_000)]
    public async Task Wire_CasOnDeletedKey_AnswersNotFound()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("cas-wire");
        await client.PutAsync(key, "d");
        Assert.True(await client.DeleteAsync(key));
        var request = new CompareAndSetRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), ExpectedValue = Google.Protobuf.ByteString.CopyFromUtf8("d"), NewValue = Google.Protobuf.ByteString.CopyFromUtf8("e") };
        var r = await client.InvokeAsync("CompareAndSet", false, (s, o) => s.CompareAndSetAsync(request, o).ResponseAsync, default);
        Assert.False(r.Succeeded);
        Assert.False(r.Found, $"server answered found=true, value '{r.CurrentValue.ToStringUtf8()}', version {r.CurrentVersion}");
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_PagesTransparently_ForwardAndReverse_WithLimitAndBounds()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string prefix = Unique("scan") + "/";
        var keys = Enumerable.Range(0, 120).Select(i => $"{prefix}{i:D4}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (k, ct) => await client.PutAsync(k, "v" + k, ct));

        var small = new KvScanOptions { PageSize = 7 };
        var forward = await client.ScanPrefixAsync(prefix, small).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(keys, forward);
        Assert.All(await client.ScanPrefixAsync(prefix, small).ToListAsync(), e => Assert.Equal("v" + e.KeyString, e.ValueString));

        var reverse = await client.ScanPrefixAsync(prefix, small with { Reverse = true }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(Enumerable.Reverse(keys), reverse);

        // Bounds [0010, 0050), a total limit over page boundaries, and the server's default page size.
        var bounded = await client.ScanAsync($"{prefix}0010", $"{prefix}0050", small).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(keys[10..50], bounded);
        var limited = await client.ScanPrefixAsync(prefix, small with { Limit = 20, Reverse = true }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(Enumerable.Reverse(keys).Take(20), limited);
        Assert.Equal(120, await client.ScanPrefixAsync(prefix).CountAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task NonLeaderSeedFirst_RoutesToLeaderThroughNotLeader()
    {
        string leader = await cluster.LeaderAsync();
        var followers = cluster.Endpoints.Where(e => e != leader).ToList();
        Assert.Equal(2, followers.Count);

        // Only a follower as seed: the client learns the leader from the NotLeader detail and goes there.
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient([followers[0]], o => o.HttpHandlerFactory = attempts.Handler);
        await client.PutAsync(Unique("routed"), "x");
        Assert.Equal(leader, client.CachedLeaderEndpoint);
        Assert.Equal(1, attempts.At(followers[0]));
        Assert.Equal(1, attempts.At(leader));

        // Later calls go straight to the cached leader.
        await client.GetAsync("\u0001probe");
        Assert.Equal(1, attempts.At(followers[0]));
        Assert.Equal(2, attempts.At(leader));
    }

    /// <summary>
    /// A seed with no server first in the list: the client moves on to the live ones, and the dead one gets at most
    /// two attempts (its breaker opens after two refusals in a row), however many calls follow.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task DeadSeedEndpoint_IsSkipped()
    {
        string dead = $"http://127.0.0.1:{ClusterFixture.FreePort()}";
        var attempts = new AttemptCounter { WithoutConnectionBalancer = true }; // so that refused attempts are counted too
        await using var client = ClusterFixture.NewClient([dead, .. cluster.Endpoints], o => o.HttpHandlerFactory = attempts.Handler);
        string key = Unique("dead-seed");
        await client.PutAsync(key, "x");
        Assert.Equal("x", await client.GetStringAsync(key));
        for (int i = 0; i < 10; i++) await client.GetAsync(key);
        Assert.InRange(attempts.AllAt(dead), 1, 2);
        Assert.True(attempts.AllAt(dead) == 1 || client.Router.IsSkipped(dead));
        Assert.NotEqual(dead, client.Router.Pick().Address);
    }

    [Fact(Timeout = 30_000)]
    public async Task OnlyDeadEndpoints_FailWithUnavailable_AfterBoundedRetries()
    {
        await using var client = ClusterFixture.NewClient([$"127.0.0.1:{ClusterFixture.FreePort()}"], o => o.RetryAttemptsMax = 3);
        var e = await Assert.ThrowsAsync<KvUnavailableException>(() => client.GetAsync("k"));
        Assert.Equal(KvErrorCode.Unavailable, e.Code);
        var write = await Assert.ThrowsAsync<KvUnavailableException>(() => client.PutAsync("k", "v"));
        Assert.True(write.WriteMayHaveApplied);
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancellation_IsHonoured_BeforeAndDuringRetries()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PutAsync("k", "v", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.ScanAsync("", "", cancellationToken: cancelled.Token)) { }
        });

        // Backing off against a dead endpoint with a long budget: the token stops it quickly.
        await using var stuck = ClusterFixture.NewClient([$"127.0.0.1:{ClusterFixture.FreePort()}"],
            o => { o.RetryBackoff = TimeSpan.FromMilliseconds(500); o.RetryBackoffMax = TimeSpan.FromSeconds(1); });
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stuck.GetAsync("k", soon.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = 30_000)]
    public async Task InvalidArgument_SurfacesWithField_AndIsNotRetried()
    {
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        await client.GetAsync("\u0001probe"); // learn the leader first, so that one attempt is one request
        int before = attempts.Total;

        var e = await Assert.ThrowsAsync<KvInvalidArgumentException>(() => client.PutAsync(ReadOnlyMemory<byte>.Empty, "v"u8.ToArray()));
        Assert.Equal("key", e.Field);
        Assert.Equal(KvErrorCode.InvalidArgument, e.Code);
        Assert.Equal(before + 1, attempts.Total);

        var scan = await Assert.ThrowsAsync<KvInvalidArgumentException>(async () =>
        {
            await foreach (var _ in client.ScanAsync("", "", new KvScanOptions { PageSize = 1_000_000 })) { }
        });
        Assert.Equal("limit", scan.Field);
        Assert.Equal(before + 2, attempts.Total);
    }

    /// <summary>
    /// A lost response, simulated by an HTTP handler under the client's channels: the first CompareAndSet reaches the
    /// leader and is applied there, then its response is dropped and the call fails as a broken connection
    /// (UNAVAILABLE). The client retries with the same write id and gets the first answer: succeeded. Had the retry
    /// applied again, "absent" would no longer hold and the answer would be a failed condition; a third, new CAS
    /// confirms that the key holds the first value.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task RetriedWrite_AfterLostResponse_IsAppliedOnce()
    {
        var attempts = new AttemptCounter { DropFirstResponseOf = "/kv.v1.Kv/CompareAndSet" };
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        string key = Unique("once");

        var result = await client.CompareAndSetAsync(key, KvCondition.Absent, "first");
        Assert.True(result.Succeeded);
        Assert.Equal(1, attempts.Dropped);
        Assert.True(attempts.Of("/kv.v1.Kv/CompareAndSet") >= 2);

        var entry = await client.GetAsync(key);
        Assert.Equal("first", entry!.ValueString);
        Assert.Equal(result.NewVersion, entry.Version);
        Assert.False((await client.CompareAndSetAsync(key, KvCondition.Absent, "second")).Succeeded);
    }

    /// <summary>The same, through the client's internal invoke: one write id sent twice on the raw stub.</summary>
    [Fact(Timeout = 30_000)]
    public async Task SameWriteIdSentTwice_AppliesOnce_AndAnswersTheFirstVersion()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        var key = Google.Protobuf.ByteString.CopyFromUtf8(Unique("raw"));
        var request = new PutRequest { Key = key, Value = Google.Protobuf.ByteString.CopyFromUtf8("v"), WriteId = new WriteId { ClientId = (ulong)KvClientOptions.NewClientId(), Sequence = 1 } };
        var first = await client.InvokeAsync("Put", false, (s, o) => s.PutAsync(request, o).ResponseAsync, default);
        await client.PutAsync("other/" + Guid.NewGuid().ToString("N"), "in between");
        var second = await client.InvokeAsync("Put", false, (s, o) => s.PutAsync(request, o).ResponseAsync, default);
        Assert.Equal(first.Version, second.Version);
        Assert.Equal(new KvVersion(first.Version.WallNanos, first.Version.Logical), (await client.GetAsync(key.Memory))!.Version);
    }

    [Fact(Timeout = 30_000)]
    public async Task ConcurrentWrites_FromOneClient_AllApply()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.WriteLanes = 4);
        string prefix = Unique("concurrent") + "/";
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => client.PutAsync($"{prefix}{i:D3}", "x")));
        Assert.Equal(64, await client.ScanPrefixAsync(prefix).CountAsync());
    }
}
