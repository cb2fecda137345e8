using System.Diagnostics;
using System.Threading.Channels;
using RocksDbSharp;

namespace Kv.Storage.GroupCommit;

/// <summary>
/// Merges concurrent writers' work into one RocksDB <see cref="WriteBatch"/> and one synced write.
/// A writer hands a callback that fills the shared batch and awaits its task. A single commit loop takes
/// everything queued (up to <see cref="GroupCommitOptions.WritesPerSyncMax"/> writes or
/// <see cref="GroupCommitOptions.BatchBytesMax"/> bytes), runs the callbacks into one batch, writes it with
/// sync on, and only after that write has returned completes the writers' tasks — all of them successfully,
/// or all of them with the write's exception. While one sync runs, the next writers queue up, so the number of
/// writes per sync grows with the load and the disk's latency. See docs/storage-paxos.md.
/// </summary>
/// <remarks>
/// A callback runs on the commit loop and must be quick (copy prepared bytes into the batch); one that throws
/// fails only its own writer (its partial additions are rolled back to a save point). The writes of one sync
/// are applied atomically and in queue order. The loop blocks one thread-pool thread for the duration of each
/// synced write — one at a time, like any synchronous file write.
/// </remarks>
public sealed class GroupCommitter : IAsyncDisposable
{
    private readonly Func<WriteBatch, ValueTask> _writeSynced;
    private readonly GroupCommitOptions _options;
    private readonly Channel<PendingWrite> _queue;
    private readonly GroupCommitStatsRecorder _stats = new();
    private readonly GroupCommitMetrics? _metrics;
    private readonly Task _loop;
    private int _lastSyncWrites; // the commit loop's own
    private int _disposed;

    // How long without a new write before gathering gives up: the writers still out are not about to come. Counted
    // in time, not in yields: while a compaction holds the other core, the continuations can take longer than a few
    // yields to run (25 µs against 8 yields, with WAL recycling on: p99 ÷ fsync at most 3.5 in 6 rounds, against
    // 4.4; storage.md).
    private static readonly long GatherIdleTicks = 25 * Stopwatch.Frequency / 1_000_000;

    /// <summary>
    /// Starts the commit loop over <paramref name="store"/>, writing with <see cref="NodeStore.SyncWrite"/>, and
    /// recording every sync in <paramref name="metrics"/> when given.
    /// </summary>
    public GroupCommitter(NodeStore store, GroupCommitOptions? options = null, GroupCommitMetrics? metrics = null)
        : this(batch => { store.Db.Write(batch, store.SyncWrite); return ValueTask.CompletedTask; }, options, metrics)
    {
    }

    /// <summary>Starts the commit loop over any synced write (tests substitute slow or failing ones).</summary>
    internal GroupCommitter(Func<WriteBatch, ValueTask> writeSynced, GroupCommitOptions? options = null, GroupCommitMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options ?? new GroupCommitOptions();
        _options.Validate();
        _writeSynced = writeSynced;
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(_options.QueuedWritesMax)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// Queues <paramref name="fill"/> and completes once a synced write carrying what it added has returned.
    /// </summary>
    /// <param name="state">Passed to <paramref name="fill"/>, so callers need not capture it in a closure.</param>
    /// <param name="fill">Adds this writer's operations to the shared batch; runs on the commit loop.</param>
    /// <param name="cancellationToken">
    /// Cancels the wait for queue room and the wait in the queue. Once the loop has taken the write, the task
    /// reports the outcome of its sync regardless, so a cancelled task always means "not written".
    /// </param>
    /// <exception cref="ObjectDisposedException">The committer is disposed.</exception>
    public async ValueTask CommitAsync<TState>(TState state, Action<WriteBatch, TState> fill,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fill);
        cancellationToken.ThrowIfCancellationRequested();
        var write = new PendingWrite<TState>(state, fill);
        write.CancelWhileQueued(cancellationToken);
        try
        {
            if (!_queue.Writer.TryWrite(write))
                await _queue.Writer.WriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            write.Abandon();
            throw new ObjectDisposedException(nameof(GroupCommitter));
        }
        catch (OperationCanceledException)
        {
            write.Abandon();
            throw;
        }
        await write.Completion.ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="fill"/>; see <see cref="CommitAsync{TState}"/>.</summary>
    public ValueTask CommitAsync(Action<WriteBatch> fill, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fill);
        return CommitAsync(fill, static (batch, f) => f(batch), cancellationToken);
    }

    /// <summary>The counters so far (named <c>GetStats</c> rather than <c>Snapshot</c>, which means a Paxos snapshot here).</summary>
    public GroupCommitStats GetStats() => _stats.Read();

    /// <summary>
    /// Stops accepting writes (new and still-waiting-for-room calls throw <see cref="ObjectDisposedException"/>),
    /// commits everything already queued, and waits for the loop to end.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var taken = new List<PendingWrite>(Math.Min(_options.WritesPerSyncMax, 1024));
        using var batch = new WriteBatch(); // reused: cleared after every sync
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                GatherStragglers(reader);
                long bytes = TakeInto(batch, reader, taken);
                if (taken.Count > 0) await SyncAsync(batch, taken, bytes).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Not expected (callbacks' and the write's exceptions are handled), but the loop must not die
                // with writers waiting for it.
                foreach (var write in taken) write.Fail(e);
            }
            taken.Clear();
            batch.Clear();
        }
    }

    /// <summary>
    /// Waits a moment for the writers the last sync released, when fewer are queued than it carried. They come
    /// back at once in a closed loop, but their continuations run one by one on the thread pool, and a sync started
    /// before they are back makes the late ones wait for it and then for their own: two syncs, the tail of the
    /// latency. So, like PostgreSQL's commit_delay with commit_siblings, the loop yields the CPU to them, at most
    /// <see cref="GroupCommitOptions.GatherMicrosMax"/>, and stops as soon as the queue holds as many writes as
    /// the last sync, or none arrived for 25 µs. A lone writer (the last sync carried one write) never waits.
    /// </summary>
    private void GatherStragglers(ChannelReader<PendingWrite> reader)
    {
        int expected = Math.Min(_lastSyncWrites, _options.WritesPerSyncMax);
        if (_options.GatherMicrosMax <= 0 || expected <= 1 || reader.Count >= expected) return;
        long deadline = Stopwatch.GetTimestamp() + _options.GatherMicrosMax * Stopwatch.Frequency / 1_000_000;
        int seen = reader.Count;
        long lastArrival = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Yield();
            int now = reader.Count;
            if (now >= expected) return;
            long at = Stopwatch.GetTimestamp();
            if (now > seen) (seen, lastArrival) = (now, at);
            else if (at - lastArrival > GatherIdleTicks) return;
        }
    }

    // Fills the batch from the queue within the limits; returns the batch size in bytes.
    private long TakeInto(WriteBatch batch, ChannelReader<PendingWrite> reader, List<PendingWrite> taken)
    {
        long bytes = 0;
        while (taken.Count < _options.WritesPerSyncMax && bytes < _options.BatchBytesMax && reader.TryRead(out var write))
        {
            if (!write.TryTake()) continue; // cancelled while queued
            batch.SetSavePoint();
            try
            {
                write.Fill(batch);
                batch.PopSavePoint();
                taken.Add(write);
            }
            catch (Exception e)
            {
                batch.RollbackToSavePoint();
                write.Fail(e);
            }
            bytes = batch.AsSpan().Length;
        }
        return bytes;
    }

    private async Task SyncAsync(WriteBatch batch, List<PendingWrite> taken, long bytes)
    {
        Exception? failure = null;
        long started = Stopwatch.GetTimestamp();
        try
        {
            await _writeSynced(batch).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        _lastSyncWrites = taken.Count;
        _stats.RecordSync(taken.Count, bytes, (long)elapsed.TotalMicroseconds, failure is not null);
        _metrics?.RecordSync(taken.Count, bytes, elapsed, failure is not null);
        // Only now, after the synced write returned, is anybody told anything.
        foreach (var write in taken)
        {
            if (failure is null) write.Succeed();
            else write.Fail(failure);
        }
    }
}
