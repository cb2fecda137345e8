using Google.Protobuf;
using Kv.Proto.V1;
using Xunit.Abstractions;

namespace Kv.Client.Tests.Process;

/// <summary>
/// The client against three real `Kv.Server node` processes (<see cref="ServerProcesses"/>): every operation, routing
/// after a split and after the leader is SIGKILLed, a write whose first response is lost applied once, cancellation,
/// a dead seed endpoint, and the circuit breaker with one of three nodes killed. The tests that kill nodes start
/// clusters of their own; the others share one (<see cref="ServerProcessesFixture"/>).
/// </summary>
[Collection(ServerProcessesCollection.Name)]
public sealed class KvClientProcessTests(ServerProcessesFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private static string Unique(string name) => $"proc-{name}/{Guid.NewGuid():N}";

    [Fact(Timeout = 60_000)]
    public async Task EveryOperation_AgainstServerProcesses()
    {
        await using var client = ClusterFixture.NewClient(fixture.Endpoints);
        string prefix = Unique("ops") + "/";
        string key = prefix + "k";

        Assert.Null(await client.GetAsync(key));
        var v1 = await client.PutAsync(key, "one");
        var entry = await client.GetAsync(key);
        Assert.Equal("one", entry!.ValueString);
        Assert.Equal(v1, entry.Version);

        var cas = await client.CompareAndSetAsync(key, KvCondition.Version(v1), "two");
        Assert.True(cas.Succeeded);
        var failed = await client.CompareAndSetAsync(key, KvCondition.Version(v1), "x");
        Assert.False(failed.Succeeded);
        Assert.Equal("two", failed.Current!.ValueString);
        Assert.True((await client.CompareAndSetAsync(prefix + "new", KvCondition.Absent, "n")).Succeeded);

        await client.PutManyAsync(Enumerable.Range(0, 25).Select(i => ($"{prefix}m/{i:D2}", $"v{i}")));
        var many = await client.GetManyAsync([$"{prefix}m/03", $"{prefix}m/missing", $"{prefix}m/24"]);
        Assert.Equal(["v3", null, "v24"], many.Select(e => e?.ValueString));

        var scanned = await client.ScanPrefixAsync(prefix + "m/", new KvScanOptions { PageSize = 4 }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"{prefix}m/{i:D2}"), scanned);
        var reverse = await client.ScanPrefixAsync(prefix + "m/", new KvScanOptions { PageSize = 4, Reverse = true, Limit = 5 }).Select(e => e.KeyString).ToListAsync();
        Assert.Equal(Enumerable.Range(20, 5).Reverse().Select(i => $"{prefix}m/{i:D2}"), reverse);

        int moved = await client.RunTransactionAsync(async tx =>
        {
            int a = int.Parse((await tx.GetStringAsync($"{prefix}m/03"))![1..]), b = int.Parse((await tx.GetStringAsync($"{prefix}m/24"))![1..]);
            await tx.PutAsync($"{prefix}m/03", $"v{a - 1}");
            await tx.PutAsync($"{prefix}m/24", $"v{b + 1}");
            await tx.DeleteAsync(prefix + "new");
            return 1;
        });
        Assert.Equal(1, moved);
        Assert.Equal(["v2", "v25", null], (await client.GetManyAsync([$"{prefix}m/03", $"{prefix}m/24", prefix + "new"])).Select(e => e?.ValueString));

        Assert.True(await client.DeleteAsync(key));
        Assert.False(await client.DeleteAsync(key));
        Assert.Null(await client.GetAsync(key));
    }

    /// <summary>
    /// A client that cached the one-range map keeps working when the range is split under it (through the admin
    /// API, on a raw channel): single-key calls, a batch spanning the new ranges, and a scan across them; and it
    /// learns the new ranges.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task AfterASplit_TheClientRoutesToTheNewRanges()
    {
        await using var client = ClusterFixture.NewClient(fixture.Endpoints);
        string prefix = Unique("split") + "/";
        var entries = Enumerable.Range(0, 40).Select(i => ($"{prefix}{i:D2}", $"v{i}")).ToList();
        await client.PutManyAsync(entries);
        int rangesBefore = client.Router.Ranges.Count;

        var (channel, admin) = fixture.Cluster.Admin(1);
        using (channel)
        {
            foreach (int at in new[] { 10, 20, 30 })
                await admin.SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8($"{prefix}{at:D2}") }, deadline: DateTime.UtcNow.AddSeconds(10));
        }

        var updated = entries.Select(e => (e.Item1, e.Item2 + "'")).ToList();
        await client.PutManyAsync(updated);
        Assert.Equal(updated.Select(e => e.Item2), (await client.GetManyAsync(updated.Select(e => e.Item1))).Select(e => e?.ValueString));
        foreach (var (k, v) in updated.Where((_, i) => i % 5 == 0))
        {
            Assert.Equal(v, await client.GetStringAsync(k));
            await client.PutAsync(k, v + "'");
        }
        Assert.Equal(updated.Select(e => e.Item1), await client.ScanPrefixAsync(prefix, new KvScanOptions { PageSize = 7 }).Select(e => e.KeyString).ToListAsync());
        Assert.True(client.Router.Ranges.Count >= rangesBefore + 3, $"the client knows {client.Router.Ranges.Count} ranges (before the splits: {rangesBefore})");
    }

    /// <summary>
    /// A Put and a PutMany whose first response is dropped after the leader answered it (a handler under the client's
    /// channel reads the answer, then fails the call as a reset connection): the retry carries the same write id(s),
    /// and the key keeps the version of the first application, so it was applied once.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task WriteWhoseFirstResponseIsLost_IsAppliedOnce()
    {
        var puts = new AttemptCounter { DropFirstResponseOf = "/kv.v1.Kv/Put" };
        await using (var client = ClusterFixture.NewClient(fixture.Endpoints, o => o.HttpHandlerFactory = puts.Handler))
        {
            string key = Unique("lost-put");
            var version = await client.PutAsync(key, "once");
            Assert.Equal(1, puts.Dropped);
            Assert.True(puts.Of("/kv.v1.Kv/Put") >= 2);
            var first = KvClient.ToVersion(puts.DroppedMessage(PutResponse.Parser).Version);
            Assert.Equal(first, version); // the retry was answered with the first application's version
            Assert.Equal(first, (await client.GetAsync(key))!.Version);
        }

        var batches = new AttemptCounter { DropFirstResponseOf = "/kv.v1.Kv/Batch" };
        await using (var client = ClusterFixture.NewClient(fixture.Endpoints, o => o.HttpHandlerFactory = batches.Handler))
        {
            string prefix = Unique("lost-batch") + "/";
            var entries = Enumerable.Range(0, 10).Select(i => ($"{prefix}{i}", $"v{i}")).ToList();
            await client.PutManyAsync(entries);
            Assert.Equal(1, batches.Dropped);
            var first = batches.DroppedMessage(BatchResponse.Parser);
            var read = await client.GetManyAsync(entries.Select(e => e.Item1));
            Assert.Equal(first.Results.Select(r => KvClient.ToVersion(r.Put.Version)), read.Select(e => e!.Version));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Cancellation_IsHonoured_BeforeAndDuringCalls()
    {
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(fixture.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        await client.GetAsync("\u0001probe");
        int sent = attempts.Total;

        // Already cancelled: nothing is sent.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PutAsync("k", "v", token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeleteAsync("k", token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CompareAndSetAsync("k", KvCondition.Absent, "v", token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetManyAsync(["k"], token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PutManyAsync([("k", "v")], token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.BeginTransactionAsync(cancellationToken: token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.ScanAsync("", "", cancellationToken: token)) { }
        });
        Assert.Equal(sent, attempts.Total);

        // Cancelled while a batch is in flight (the handler cancels as the first Batch request leaves).
        using var midway = new CancellationTokenSource();
        var watching = new AttemptCounter { OnRequest = method => { if (method == "/kv.v1.Kv/Batch") midway.Cancel(); } };
        await using (var watched = ClusterFixture.NewClient(fixture.Endpoints, o => o.HttpHandlerFactory = watching.Handler))
        {
            string prefix = Unique("cancel") + "/";
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                watched.PutManyAsync(Enumerable.Range(0, 200).Select(i => ($"{prefix}{i:D3}", "v")), midway.Token));
            Assert.Equal(1, watching.Of("/kv.v1.Kv/Batch")); // not retried after the cancellation
            await watched.PutAsync(prefix + "after", "ok"); // and the client goes on
            Assert.Equal("ok", await watched.GetStringAsync(prefix + "after"));
        }

        // Cancelled while backing off against a seed with no server, with a long budget left: stops at once.
        await using var stuck = ClusterFixture.NewClient([$"http://127.0.0.1:{ServerProcesses.FreePorts(1)[0]}"],
            o => { o.RetryBackoff = TimeSpan.FromMilliseconds(500); o.RetryBackoffMax = TimeSpan.FromSeconds(2); });
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stuck.GetAsync("k", soon.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), $"cancellation took {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");
    }

    /// <summary>
    /// The first seed has no server: the client's first attempt there is refused, it moves on to the live seeds, and
    /// later calls never wait on it (at most two attempts, after which its breaker is open; or one, when the client
    /// no longer needs the seeds).
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task DeadSeedEndpoint_IsSkipped()
    {
        string dead = $"http://127.0.0.1:{ServerProcesses.FreePorts(1)[0]}";
        var attempts = new AttemptCounter { WithoutConnectionBalancer = true };
        await using var client = ClusterFixture.NewClient([dead, .. fixture.Endpoints], o => o.HttpHandlerFactory = attempts.Handler);
        string prefix = Unique("dead-seed") + "/";
        for (int i = 0; i < 20; i++)
        {
            await client.PutAsync($"{prefix}{i}", "x");
            Assert.Equal("x", await client.GetStringAsync($"{prefix}{i}"));
        }
        await client.PutManyAsync([(prefix + "a", "1"), (prefix + "b", "2")]);
        await using (var tx = await client.BeginTransactionAsync())
        {
            await tx.PutAsync(prefix + "t", "t");
            await tx.CommitAsync();
        }
        output.WriteLine($"attempts at the dead seed: {attempts.AllAt(dead)}; its breaker: {client.Router.BreakerState(dead)}");
        Assert.InRange(attempts.AllAt(dead), 1, 2);
        Assert.NotEqual(dead, client.Router.Pick().Address);
    }

    /// <summary>
    /// The leader of the keys' range is SIGKILLed while the client works: the client's calls keep succeeding (it
    /// retries at the survivors until one of them is elected), nothing acknowledged is lost, and once the new leader
    /// is found no request goes to the dead node any more.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task LeaderKilled_TheClientKeepsWorking()
    {
        using var cluster = await ServerProcesses.StartAsync(StartTimeout);
        try
        {
            var attempts = new AttemptCounter { WithoutConnectionBalancer = true };
            await using var client = ClusterFixture.NewClient(cluster.Endpoints, o =>
            {
                o.HttpHandlerFactory = attempts.Handler;
                o.Logger = new TestOutputLogger(output);
                // The library default: a write that reaches a survivor while it is still electing waits there (a write
                // that times out is not retried: it may have applied), and under CI load an election can outlast 3 s.
                o.PerCallTimeout = TimeSpan.FromSeconds(5);
            });
            string prefix = Unique("failover") + "/";
            var acked = new List<(string Key, string Value)>();
            for (int i = 0; i < 20; i++)
            {
                await client.PutAsync($"{prefix}{i:D3}", $"v{i}");
                acked.Add(($"{prefix}{i:D3}", $"v{i}"));
            }
            int killed = await LeaderOfAsync(cluster, acked[0].Key);
            string dead = cluster.Endpoint(killed);
            int beforeKill = attempts.AllAt(dead);
            await cluster.KillAsync(killed);
            output.WriteLine($"SIGKILL node {killed} ({dead}), the leader");

            var failover = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 20; i < 40; i++)
            {
                await client.PutAsync($"{prefix}{i:D3}", $"v{i}");
                acked.Add(($"{prefix}{i:D3}", $"v{i}"));
                if (i == 20) output.WriteLine($"first write after the kill acknowledged in {failover.ElapsedMilliseconds} ms");
            }
            int atDead = attempts.AllAt(dead);
            output.WriteLine($"attempts at the dead node during the failover: {atDead - beforeKill}; its breaker: {client.Router.BreakerState(dead)}");

            for (int i = 40; i < 60; i++)
            {
                await client.PutAsync($"{prefix}{i:D3}", $"v{i}");
                acked.Add(($"{prefix}{i:D3}", $"v{i}"));
            }
            await client.PutManyAsync(Enumerable.Range(60, 20).Select(i => ($"{prefix}{i:D3}", $"v{i}")));
            acked.AddRange(Enumerable.Range(60, 20).Select(i => ($"{prefix}{i:D3}", $"v{i}")));
            Assert.Equal(acked.Select(a => a.Value), (await client.GetManyAsync(acked.Select(a => a.Key))).Select(e => e?.ValueString));
            Assert.Equal(acked.Count, await client.ScanPrefixAsync(prefix).CountAsync());
            Assert.Equal(atDead, attempts.AllAt(dead)); // routed to the new leader only
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    /// <summary>
    /// One of three nodes is SIGKILLed after the key space was split into nine ranges. A new client, whose first seed
    /// is the dead node and which must find each range's leader among its replicas, works throughout; the dead node
    /// gets at most two attempts (then its breaker is open), not one per range.
    /// </summary>
    [Fact(Timeout = 90_000)]
    public async Task OneOfThreeNodesKilled_ItsBreakerOpens_AndTheOthersServe()
    {
        using var cluster = await ServerProcesses.StartAsync(StartTimeout);
        try
        {
            string prefix = Unique("breaker") + "/";
            var splits = Enumerable.Range(1, 8).Select(i => $"{prefix}{i}").ToList();
            var (channel, admin) = cluster.Admin(1);
            using (channel)
            {
                await using var setup = ClusterFixture.NewClient(cluster.Endpoints);
                await setup.PutAsync(prefix + "0", "ready");
                foreach (var at in splits)
                    await admin.SplitRangeAsync(new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(at) }, deadline: DateTime.UtcNow.AddSeconds(10));
            }
            int victim = 3;
            await cluster.KillAsync(victim);
            string dead = cluster.Endpoint(victim);
            var keys = Enumerable.Range(0, 9).Select(i => $"{prefix}{i}/k").ToList();
            await using (var survivor = ClusterFixture.NewClient([cluster.Endpoint(1), cluster.Endpoint(2)]))
            {
                // Every range the dead node led elects a new leader: wait for it, so that no survivor still names the dead one.
                foreach (var k in keys) await survivor.PutAsync(k, "elected");
            }

            var attempts = new AttemptCounter { WithoutConnectionBalancer = true };
            await using var client = ClusterFixture.NewClient([dead, cluster.Endpoint(1), cluster.Endpoint(2)], o =>
            {
                o.HttpHandlerFactory = attempts.Handler;
                o.CircuitBreakerBreakDuration = TimeSpan.FromMinutes(1); // no probe during the test
                o.Logger = new TestOutputLogger(output);
            });
            output.WriteLine($"dead: node {victim} at {dead}; node 1 at {cluster.Endpoint(1)}, node 2 at {cluster.Endpoint(2)}");
            for (int round = 0; round < 3; round++)
            {
                foreach (var k in keys) await client.PutAsync(k, $"r{round}");
                Assert.All(await client.GetManyAsync(keys), e => Assert.Equal($"r{round}", e!.ValueString));
            }
            await client.PutManyAsync(keys.Select(k => (k, "last")));
            output.WriteLine($"ranges known: {client.Router.Ranges.Count}; attempts at the dead node: {attempts.AllAt(dead)} "
                + $"(data calls in all: {attempts.Total}); its breaker: {client.Router.BreakerState(dead)}");
            Assert.True(client.Router.Ranges.Count >= 9);
            Assert.InRange(attempts.AllAt(dead), 1, 3);
            if (attempts.AllAt(dead) >= 2) Assert.True(client.Router.IsOpen(dead));
            Assert.True(client.Router.IsSkipped(dead) || attempts.AllAt(dead) == 1);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    /// <summary>The node that leads the range holding <paramref name="key"/>, as the nodes' admin status says (waits for one).</summary>
    private static async Task<int> LeaderOfAsync(ServerProcesses cluster, string key)
    {
        var k = ByteString.CopyFromUtf8(key);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            foreach (int id in ServerProcesses.NodeIds)
            {
                var (channel, admin) = cluster.Admin(id);
                using (channel)
                {
                    var status = await admin.NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    if (status.Replicas.Any(r => r.IsLeader && r.Range.StartKey.Span.SequenceCompareTo(k.Span) <= 0
                                                 && (r.Range.EndKey.IsEmpty || k.Span.SequenceCompareTo(r.Range.EndKey.Span) < 0)))
                        return id;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"no node leads the range of {key}");
            await Task.Delay(50);
        }
    }
}
