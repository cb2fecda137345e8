using Kv.Storage.GroupCommit;
using Kv.Storage.Tests.Crash;
using RocksDbSharp;
using Xunit.Abstractions;

namespace Kv.Storage.Tests.GroupCommit;

public sealed class GroupCommitterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static byte[] B(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>A synced write that the test releases: records each batch's contents, then waits for the gate.</summary>
    private sealed class GatedWrite
    {
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly List<int> BatchCounts = [];
        public Exception? FailWith { get; set; }

        public async ValueTask WriteAsync(WriteBatch batch)
        {
            lock (BatchCounts) BatchCounts.Add(batch.Count());
            Entered.TrySetResult();
            await _gate.Task.WaitAsync(Patience);
            if (FailWith is { } e) throw e;
        }

        public void Release() => _gate.TrySetResult();
    }

    [Fact]
    public async Task SixtyFourConcurrentWriters_AreMergedIntoFewSyncs_AndAllDurable()
    {
        using var directory = new ScratchDirectory("group-commit");
        using var store = NodeStore.Open(directory.Path);
        await using var committer = new GroupCommitter(store);
        const int writers = 64, writesEach = 200;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < writesEach; i++)
                await committer.CommitAsync((w, i), static (batch, s) => batch.Put(B($"k/{s.w}/{s.i}"), B($"v{s.i}"), null));
        })));

        var stats = committer.GetStats();
        output.WriteLine(stats.ToString());
        Assert.Equal(writers * writesEach, stats.Writes);
        Assert.True(stats.Syncs < stats.Writes / 2, $"expected merging, got {stats}");
        Assert.True(stats.WritesPerSyncMax > 1 && stats.WritesPerSyncMax <= writers);
        Assert.Equal(stats.Syncs, stats.WritesPerSyncHistogram.Sum());
        Assert.Equal(B("v199"), store.Db.Get(B("k/63/199")));
    }

    [Fact]
    public async Task NobodyIsToldDurable_BeforeTheSyncReturns()
    {
        var write = new GatedWrite();
        await using var committer = new GroupCommitter(write.WriteAsync);

        var first = committer.CommitAsync(b => b.Put(B("a"), B("1"))).AsTask();
        await write.Entered.Task.WaitAsync(Patience);
        var queued = Enumerable.Range(0, 5).Select(i => committer.CommitAsync(b => b.Put(B($"b{i}"), B("2"))).AsTask()).ToArray();
        await Task.Delay(50);

        Assert.False(first.IsCompleted);
        Assert.All(queued, t => Assert.False(t.IsCompleted));
        write.Release();
        await first.WaitAsync(Patience);
        await Task.WhenAll(queued).WaitAsync(Patience);
        Assert.Equal([1, 5], write.BatchCounts); // the five that queued during the first sync share the second
    }

    [Fact]
    public async Task FailedSync_FailsEveryWriterItCarried_AndTheNextSyncWorks()
    {
        var write = new GatedWrite { FailWith = new IOException("disk gone") };
        await using var committer = new GroupCommitter(write.WriteAsync);

        var blocker = committer.CommitAsync(b => b.Put(B("a"), B("1"))).AsTask();
        await write.Entered.Task.WaitAsync(Patience);
        var carried = Enumerable.Range(0, 3).Select(i => committer.CommitAsync(b => b.Put(B($"b{i}"), B("2"))).AsTask()).ToArray();
        await Task.Delay(20);
        write.Release();

        Assert.Equal("disk gone", (await Assert.ThrowsAsync<IOException>(() => blocker)).Message);
        foreach (var task in carried) await Assert.ThrowsAsync<IOException>(() => task);
        write.FailWith = null;
        await committer.CommitAsync(b => b.Put(B("c"), B("3"))).AsTask().WaitAsync(Patience);
        Assert.Equal(2, committer.GetStats().SyncsFailed);
    }

    [Fact]
    public async Task ThrowingFill_FailsOnlyItsWriter_AndLeavesNothingInTheBatch()
    {
        using var directory = new ScratchDirectory("group-commit");
        using var store = NodeStore.Open(directory.Path);
        await using var committer = new GroupCommitter(store);

        var bad = committer.CommitAsync(b =>
        {
            b.Put(B("half"), B("written"));
            throw new InvalidOperationException("fill failed");
        });
        var good = committer.CommitAsync(b => b.Put(B("good"), B("1")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => bad.AsTask());
        await good;
        Assert.Null(store.Db.Get(B("half")));
        Assert.Equal(B("1"), store.Db.Get(B("good")));
    }

    [Fact]
    public async Task CancelledWhileQueued_IsNeverWritten_ButOnceTakenTheOutcomeIsReported()
    {
        var write = new GatedWrite();
        await using var committer = new GroupCommitter(write.WriteAsync);
        using var cancel = new CancellationTokenSource();
        bool filled = false;

        var taken = committer.CommitAsync(b => b.Put(B("a"), B("1")), cancel.Token).AsTask();
        await write.Entered.Task.WaitAsync(Patience);
        var queued = committer.CommitAsync(b => { filled = true; b.Put(B("b"), B("2")); }, cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        write.Release();

        await taken.WaitAsync(Patience); // taken before the cancellation: completes with its sync's outcome
        Assert.False(filled);
        Assert.Equal([1], write.BatchCounts);
    }

    [Fact]
    public async Task FullQueue_MakesWritersWait()
    {
        var write = new GatedWrite();
        var committer = new GroupCommitter(write.WriteAsync, new GroupCommitOptions { QueuedWritesMax = 2, WritesPerSyncMax = 2 });
        try
        {
            var inSync = committer.CommitAsync(b => b.Put(B("a"), B("1"))).AsTask();
            await write.Entered.Task.WaitAsync(Patience);
            var queued = Enumerable.Range(0, 2).Select(_ => committer.CommitAsync(b => b.Put(B("q"), B("1"))).AsTask()).ToArray();
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            // The queue holds two; a third writer waits for room, here until its token gives up.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => committer.CommitAsync(b => b.Put(B("x"), B("1")), cancel.Token).AsTask());
            write.Release();
            await Task.WhenAll(queued.Append(inSync)).WaitAsync(Patience);
        }
        finally
        {
            write.Release();
            await committer.DisposeAsync();
        }
    }

    [Fact]
    public async Task Dispose_CommitsWhatIsQueued_ThenRefusesNewWrites()
    {
        var write = new GatedWrite();
        var committer = new GroupCommitter(write.WriteAsync);
        var first = committer.CommitAsync(b => b.Put(B("a"), B("1"))).AsTask();
        await write.Entered.Task.WaitAsync(Patience);
        var queued = committer.CommitAsync(b => b.Put(B("b"), B("1"))).AsTask();

        var disposing = committer.DisposeAsync().AsTask();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => committer.CommitAsync(b => b.Put(B("c"), B("1"))).AsTask());
        write.Release();
        await disposing.WaitAsync(Patience);

        await first.WaitAsync(Patience);
        await queued.WaitAsync(Patience);
        Assert.Equal(2, committer.GetStats().Syncs);
    }

    [Fact]
    public async Task LoneWriter_NeverWaitsForStragglers()
    {
        var syncs = 0;
        // Gathering for up to 5 s: a lone writer waiting for anyone would take 5 s per write.
        await using var committer = new GroupCommitter(_ => { Interlocked.Increment(ref syncs); return ValueTask.CompletedTask; },
            new GroupCommitOptions { GatherMicrosMax = 5_000_000 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) await committer.CommitAsync(b => b.Put(B($"k{i}"), B("v")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"20 lone writes took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(20, syncs);
    }

    [Fact]
    public async Task Gathering_GivesUpWhenTheReleasedWritersDoNotComeBack()
    {
        var write = new GatedWrite();
        await using var committer = new GroupCommitter(write.WriteAsync, new GroupCommitOptions { GatherMicrosMax = 5_000_000 });
        var first = committer.CommitAsync(b => b.Put(B("a"), B("1"))).AsTask();
        await write.Entered.Task.WaitAsync(Patience);
        var three = Enumerable.Range(0, 3).Select(i => committer.CommitAsync(b => b.Put(B($"b{i}"), B("2"))).AsTask()).ToArray();
        await Task.Delay(20);
        write.Release();
        await Task.WhenAll(three.Append(first)).WaitAsync(Patience);
        Assert.Equal([1, 3], write.BatchCounts);

        // The last sync carried three; the three writers do not come back. One write must not wait out 5 s.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await committer.CommitAsync(b => b.Put(B("c"), B("3"))).AsTask().WaitAsync(Patience);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"a write after a shared sync took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal([1, 3, 1], write.BatchCounts);
    }
}
