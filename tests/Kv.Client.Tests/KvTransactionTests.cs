using System.Text;
using Xunit.Abstractions;

namespace Kv.Client.Tests;

/// <summary>Transactions through <see cref="KvClient"/> against the shared 3-node cluster in this process (one range).</summary>
[Collection(ClusterCollection.Name)]
public sealed class KvTransactionTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static string Unique(string name) => $"txn-{name}/{Guid.NewGuid():N}";

    [Fact(Timeout = 30_000)]
    public async Task Commit_IsVisibleToALaterGet_AtTheCommitTimestamp()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string a = Unique("visible"), b = Unique("visible");

        await using var tx = await client.BeginTransactionAsync();
        Assert.True(tx.ReadTimestamp > default(KvVersion));
        await tx.PutAsync(a, "1");
        await tx.PutAsync(Encoding.UTF8.GetBytes(b), new byte[] { 0, 255 });
        Assert.Null(await client.GetAsync(a)); // buffered: nothing was sent
        var committed = await tx.CommitAsync();

        Assert.True(committed > tx.ReadTimestamp);
        var entry = await client.GetAsync(a);
        Assert.Equal("1", entry!.ValueString);
        Assert.Equal(committed, entry.Version);
        Assert.Equal(new byte[] { 0, 255 }, (await client.GetAsync(b))!.Value.ToArray());
    }

    [Fact(Timeout = 30_000)]
    public async Task RunTransaction_ReturnsTheBodysResult_AndCommits()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("run");
        await client.PutAsync(key, "41");
        int result = await client.RunTransactionAsync(async tx =>
        {
            int n = int.Parse((await tx.GetStringAsync(key))!) + 1;
            await tx.PutAsync(key, n.ToString());
            return n;
        });
        Assert.Equal(42, result);
        Assert.Equal("42", await client.GetStringAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadYourOwnWrites_GetSeesBufferedPutsAndDeletes_OthersDoNot()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string existing = Unique("ryow"), fresh = Unique("ryow");
        var stored = await client.PutAsync(existing, "stored");

        await using (var tx = await client.BeginTransactionAsync())
        {
            var read = await tx.GetAsync(existing);
            Assert.Equal("stored", read!.ValueString);
            Assert.Equal(stored, read.Version);
            Assert.Null(await tx.GetAsync(fresh));

            await tx.PutAsync(existing, "mine");
            Assert.Equal("mine", await tx.GetStringAsync(existing));
            await tx.PutAsync(fresh, "new");
            Assert.Equal("new", await tx.GetStringAsync(fresh));
            Assert.Equal(default, (await tx.GetAsync(fresh))!.Version); // not committed: no version yet
            await tx.DeleteAsync(existing);
            Assert.Null(await tx.GetAsync(existing));

            // Outside the transaction nothing changed yet.
            Assert.Equal("stored", await client.GetStringAsync(existing));
            Assert.Null(await client.GetAsync(fresh));
            await tx.CommitAsync();
        }
        Assert.Null(await client.GetAsync(existing));
        Assert.Equal("new", await client.GetStringAsync(fresh));
    }

    [Fact(Timeout = 30_000)]
    public async Task Rollback_And_DisposeWithoutCommit_WriteNothing()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("rollback");
        await using (var tx = await client.BeginTransactionAsync())
        {
            await tx.PutAsync(key, "x");
            await tx.RollbackAsync();
            await tx.RollbackAsync(); // idempotent
        }
        await using (var tx = await client.BeginTransactionAsync())
            await tx.PutAsync(key, "y");
        Assert.Null(await client.GetAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadOnlyTransaction_Commits_AndItsReadsAreValidated()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("readonly"), absent = Unique("readonly");
        await client.PutAsync(key, "v");

        string? seen = await client.RunTransactionAsync(async tx =>
        {
            Assert.Null(await tx.GetAsync(absent));
            return await tx.GetStringAsync(key);
        });
        Assert.Equal("v", seen);

        // A read-only transaction whose read changed before its commit does not commit.
        await using var tx = await client.BeginTransactionAsync();
        Assert.Equal("v", await tx.GetStringAsync(key));
        await client.PutAsync(key, "changed");
        var e = await Assert.ThrowsAsync<KvTransactionConflictException>(() => tx.CommitAsync());
        Assert.Equal(KvErrorCode.TransactionConflict, e.Code);
        Assert.Equal(1, e.Attempts);
    }

    [Fact(Timeout = 30_000)]
    public async Task EmptyTransaction_CommitsTrivially()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        await using var tx = await client.BeginTransactionAsync();
        Assert.Equal(tx.ReadTimestamp, await tx.CommitAsync());
        await client.RunTransactionAsync(_ => Task.CompletedTask);
    }

    [Fact(Timeout = 30_000)]
    public async Task Conflict_RerunsTheWholeBody_InAFreshTransaction()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("rerun");
        await client.PutAsync(key, "0");
        var readTimestamps = new List<KvVersion>();

        await client.RunTransactionAsync(async tx =>
        {
            readTimestamps.Add(tx.ReadTimestamp);
            int n = int.Parse((await tx.GetStringAsync(key))!);
            // First attempt only: someone else changes the key after we read it, so this attempt must conflict.
            if (readTimestamps.Count == 1) await client.PutAsync(key, "100");
            await tx.PutAsync(key, (n + 1).ToString());
        });

        Assert.Equal(2, readTimestamps.Count);
        Assert.True(readTimestamps[1] > readTimestamps[0]);
        Assert.Equal("101", await client.GetStringAsync(key)); // the second attempt read 100: no lost update
    }

    [Fact(Timeout = 60_000)]
    public async Task ConcurrentIncrements_OfOneCounter_LoseNoUpdate()
    {
        const int Tasks = 2, IncrementsPerTask = 10;
        string key = Unique("counter");
        await using (var setup = ClusterFixture.NewClient(cluster.Endpoints)) await setup.PutAsync(key, "0");
        int bodyRuns = 0;
        var options = new KvTransactionOptions { MaxAttempts = 50 };

        await Task.WhenAll(Enumerable.Range(0, Tasks).Select(async _ =>
        {
            await using var client = ClusterFixture.NewClient(cluster.Endpoints);
            for (int i = 0; i < IncrementsPerTask; i++)
            {
                await client.RunTransactionAsync(async tx =>
                {
                    Interlocked.Increment(ref bodyRuns);
                    int n = int.Parse((await tx.GetStringAsync(key))!);
                    await tx.PutAsync(key, (n + 1).ToString());
                }, options);
            }
        }));

        await using var reader = ClusterFixture.NewClient(cluster.Endpoints);
        Assert.Equal(Tasks * IncrementsPerTask, int.Parse((await reader.GetStringAsync(key))!));
        Assert.True(bodyRuns >= Tasks * IncrementsPerTask);
        output.WriteLine($"{bodyRuns} body runs for {Tasks * IncrementsPerTask} increments ({bodyRuns - Tasks * IncrementsPerTask} conflicts retried)");
    }

    [Fact(Timeout = 30_000)]
    public async Task BodyException_Propagates_AndNothingIsWritten()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("throws");
        int runs = 0;
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => client.RunTransactionAsync(async tx =>
        {
            runs++;
            await tx.PutAsync(key, "should not be written");
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("boom", e.Message);
        Assert.Equal(1, runs);
        Assert.Null(await client.GetAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task UseAfterCommitOrRollback_Throws()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("used");

        var committed = await client.BeginTransactionAsync();
        await committed.PutAsync(key, "x");
        await committed.CommitAsync();
        await AssertFinishedAsync(committed, key);
        await Assert.ThrowsAsync<InvalidOperationException>(() => committed.RollbackAsync().AsTask());
        await committed.DisposeAsync();

        var rolledBack = await client.BeginTransactionAsync();
        await rolledBack.RollbackAsync();
        await AssertFinishedAsync(rolledBack, key);

        // A transaction kept past its body by RunTransactionAsync is finished too.
        KvTransaction? escaped = null;
        await client.RunTransactionAsync(tx => { escaped = tx; return tx.PutAsync(key, "y"); });
        await AssertFinishedAsync(escaped!, key);
        Assert.Equal("y", await client.GetStringAsync(key));

        static async Task AssertFinishedAsync(KvTransaction tx, string key)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.GetAsync(key));
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.PutAsync(key, "z"));
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.DeleteAsync(key));
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.CommitAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await foreach (var _ in tx.ScanPrefixAsync(key)) { }
            });
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task MaxAttemptsExhausted_ThrowsConflictException_WithTheLastReasonAndKey()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("exhausted");
        await client.PutAsync(key, "0");
        int runs = 0;

        var e = await Assert.ThrowsAsync<KvTransactionConflictException>(() => client.RunTransactionAsync(async tx =>
        {
            runs++;
            await tx.GetAsync(key);
            await client.PutAsync(key, runs.ToString()); // invalidates the read every time
            await tx.PutAsync(Unique("exhausted-other"), "x");
            // Optimistic throughout: a locking attempt would hold a read lock on the key, which its own plain put then waits for.
        }, new KvTransactionOptions { MaxAttempts = 3, RetryBackoff = TimeSpan.FromMilliseconds(1), LockReadsAfterConflicts = null }));

        Assert.Equal(3, runs);
        Assert.Equal(3, e.Attempts);
        Assert.Equal(KvErrorCode.TransactionConflict, e.Code);
        AssertNamesKey(e, key);
        Assert.IsType<KvTransactionConflictException>(e.InnerException);
        Assert.Contains("3 attempts", e.Message);
    }

    /// <summary>
    /// The conflict names the key, in <see cref="KvTransactionConflictException.Key"/> or (as the server does now for a
    /// read that is no longer the newest: it fills TxnConflict.key only for a key held by another transaction) in the reason.
    /// </summary>
    internal static void AssertNamesKey(KvTransactionConflictException e, string key)
    {
        Assert.False(string.IsNullOrEmpty(e.Reason));
        Assert.True(Encoding.UTF8.GetString(e.Key.Span) == key || e.Reason.Contains(key, StringComparison.Ordinal),
            $"the conflict names neither in Key ('{Encoding.UTF8.GetString(e.Key.Span)}') nor in Reason ('{e.Reason}') the key {key}");
    }

    [Fact(Timeout = 30_000)]
    public async Task Cancellation_IsHonoured_BeforeTheBody_InsideIt_AndDuringTheBackoff()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("cancel");

        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            int runs = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RunTransactionAsync(_ => { runs++; return Task.CompletedTask; }, cancelled.Token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.BeginTransactionAsync(cancellationToken: cancelled.Token));
            Assert.Equal(0, runs);
        }

        using (var cts = new CancellationTokenSource())
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RunTransactionAsync(async tx =>
            {
                await tx.PutAsync(key, "x", cts.Token);
                await cts.CancelAsync();
                await tx.GetAsync(Unique("cancel-other"), cts.Token);
            }, cts.Token));
            Assert.Null(await client.GetAsync(key));
        }

        // Conflicting forever with a long backoff: the token ends it during the wait.
        await client.PutAsync(key, "0");
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.RunTransactionAsync(async tx =>
        {
            await tx.GetAsync(key, soon.Token);
            await client.PutAsync(key, "changed", soon.Token);
            await tx.PutAsync(key, "mine", soon.Token);
        }, new KvTransactionOptions { MaxAttempts = 1_000, RetryBackoff = TimeSpan.FromSeconds(20), RetryBackoffMax = TimeSpan.FromSeconds(20) }, soon.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8));
        Assert.Equal("changed", await client.GetStringAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task AttemptTimeout_FailsTheAttempt_WithDeadlineExceeded()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string key = Unique("timeout");
        var e = await Assert.ThrowsAsync<KvException>(() => client.RunTransactionAsync(async tx =>
        {
            await tx.PutAsync(key, "x");
            await Task.Delay(500);
            await tx.GetAsync(key + "/other");
        }, new KvTransactionOptions { AttemptTimeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(KvErrorCode.DeadlineExceeded, e.Code);
        Assert.Null(await client.GetAsync(key));
    }

    [Fact(Timeout = 30_000)]
    public async Task BothProtocols_CommitOnOneRange()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        foreach (var protocol in new[] { KvCommitProtocol.Paxos, KvCommitProtocol.TwoPhase })
        {
            string key = Unique("protocol-" + protocol);
            await client.RunTransactionAsync(tx => tx.PutAsync(key, protocol.ToString()), new KvTransactionOptions { Protocol = protocol });
            Assert.Equal(protocol.ToString(), await client.GetStringAsync(key));
        }
    }

    /// <summary>
    /// A commit whose every node refuses the connection was never sent: it fails as unavailable with nothing
    /// committed, not as an unknown outcome. Both with the channel's own socket handler (the refusal surfaces from its
    /// connection balancer) and with a delegating handler (it surfaces as an HttpRequestException).
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task CommitToDeadNodes_IsUnavailable_NotUnknown()
    {
        foreach (bool ownHandler in new[] { false, true })
        {
            var attempts = new AttemptCounter();
            await using var client = ClusterFixture.NewClient([$"127.0.0.1:{ClusterFixture.FreePort()}"], o =>
            {
                o.RetryAttemptsMax = 2;
                if (ownHandler) o.HttpHandlerFactory = attempts.Handler;
            });
            await using var tx = new KvTransaction(client, new Kv.Proto.V1.Timestamp { WallNanos = 1, Logical = 0 }, new KvTransactionOptions(), null);
            await tx.PutAsync("k", "v");
            var e = await Assert.ThrowsAsync<KvUnavailableException>(() => tx.CommitAsync());
            Assert.False(e.WriteMayHaveApplied);
            Assert.Contains("was not sent", e.Message);
            Assert.DoesNotContain("overall deadline", e.Message);
        }
    }

    /// <summary>
    /// The commit reaches the cluster and commits, but its answer is lost (dropped under the client's channel after
    /// the server answered): the outcome is unknown to the client, which must neither report a conflict nor run the
    /// body again (a second run would increment twice).
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task LostCommitResponse_IsOutcomeUnknown_AndNotRunAgain()
    {
        var attempts = new AttemptCounter { DropFirstResponseOf = "/kv.v1.Transactions/Commit" };
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        string key = Unique("lost");
        await client.PutAsync(key, "1");
        int runs = 0;

        var e = await Assert.ThrowsAsync<KvTransactionOutcomeUnknownException>(() => client.RunTransactionAsync(async tx =>
        {
            runs++;
            int n = int.Parse((await tx.GetStringAsync(key))!);
            await tx.PutAsync(key, (n + 1).ToString());
        }));

        Assert.Equal(KvErrorCode.TransactionOutcomeUnknown, e.Code);
        Assert.True(e.WriteMayHaveApplied);
        Assert.Equal(1, runs);
        Assert.Equal(1, attempts.Dropped);
        Assert.Equal(1, attempts.Of("/kv.v1.Transactions/Commit"));
        Assert.Equal("2", await client.GetStringAsync(key)); // it did commit, once
    }

    [Fact(Timeout = 30_000)]
    public async Task ReadingAKeyAgain_CostsNoRoundTrip_AndEveryReadIsValidated()
    {
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        string key = Unique("again"), absent = Unique("again");
        var version = await client.PutAsync(key, "v");

        await using var tx = await client.BeginTransactionAsync();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(version, (await tx.GetAsync(key))!.Version);
            Assert.Null(await tx.GetAsync(absent));
        }
        Assert.Equal(2, attempts.Of("/kv.v1.Transactions/Read"));

        await client.PutAsync(absent, "appeared"); // a key read as absent now exists
        await Assert.ThrowsAsync<KvTransactionConflictException>(() => tx.CommitAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_IsOneSnapshot_AndMergesBufferedPutsAndDeletes()
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string prefix = Unique("scan") + "/";
        foreach (var i in new[] { 1, 2, 3, 5, 8 }) await client.PutAsync($"{prefix}{i:D2}", $"stored {i}");

        await using var tx = await client.BeginTransactionAsync();
        await tx.PutAsync($"{prefix}00", "new 0");      // before every stored key
        await tx.PutAsync($"{prefix}03", "mine 3");     // replaces a stored value
        await tx.DeleteAsync($"{prefix}05");            // hides a stored key
        await tx.PutAsync($"{prefix}06", "new 6");      // between stored keys
        await tx.PutAsync($"{prefix}99", "new 99");     // after every stored key
        await tx.PutAsync(prefix[..^1] + "0", "outside"); // outside the span
        await client.PutAsync($"{prefix}04", "after the read timestamp"); // not in the snapshot

        string[] expected = ["00=new 0", "01=stored 1", "02=stored 2", "03=mine 3", "06=new 6", "08=stored 8", "99=new 99"];
        var small = new KvScanOptions { PageSize = 2 };
        var forward = await tx.ScanPrefixAsync(prefix, small).Select(e => $"{e.KeyString[prefix.Length..]}={e.ValueString}").ToListAsync();
        Assert.Equal(expected, forward);
        var reverse = await tx.ScanPrefixAsync(prefix, small with { Reverse = true }).Select(e => $"{e.KeyString[prefix.Length..]}={e.ValueString}").ToListAsync();
        Assert.Equal(Enumerable.Reverse(expected), reverse);
        var limited = await tx.ScanPrefixAsync(prefix, small with { Limit = 4 }).Select(e => e.KeyString[prefix.Length..]).ToListAsync();
        Assert.Equal(["00", "01", "02", "03"], limited);
        var bounded = await tx.ScanAsync($"{prefix}02", $"{prefix}08").Select(e => e.KeyString[prefix.Length..]).ToListAsync();
        Assert.Equal(["02", "03", "06"], bounded);
    }

    /// <summary>The commit checks the scanned span: a key that appeared in it (a phantom) or changed in it since the read timestamp aborts the transaction.</summary>
    [Theory(Timeout = 30_000)]
    [InlineData("b", "a phantom appears")]
    [InlineData("a", "a scanned key changes")]
    public async Task Scan_AKeyAppearingOrChangingInTheSpan_FailsTheCommit(string writtenKey, string what)
    {
        await using var client = ClusterFixture.NewClient(cluster.Endpoints);
        string prefix = Unique("scanned") + "/";
        await client.PutAsync($"{prefix}a", "1");

        await using var tx = await client.BeginTransactionAsync();
        Assert.Single(await tx.ScanPrefixAsync(prefix).ToListAsync());
        await tx.PutAsync(Unique("scanned-total"), "1");
        await client.PutAsync(prefix + writtenKey, what);
        await Assert.ThrowsAsync<KvTransactionConflictException>(() => tx.CommitAsync());
    }
}
