using System.Diagnostics;
using System.Threading.Channels;
using RocksDbSharp;

namespace Kv.Storage.GroupCommit;

/// <summary>
/// Merges concurrent writers' work into shared RocksDB <see cref="WriteBatch"/>es and shared WAL syncs, in a
/// two-stage pipeline. A writer hands a callback that fills the shared batch and awaits its task. The write loop
/// takes everything queued (up to <see cref="GroupCommitOptions.WritesPerSyncMax"/> writes or
/// <see cref="GroupCommitOptions.BatchBytesMax"/> bytes), runs the callbacks into one batch and writes it
/// without sync; the sync loop then fsyncs the WAL, covering every batch written before the sync started, and
/// only after that sync has returned completes the writers' tasks — all of them successfully, or all of them
/// with the sync's exception. The next batch is written (memtable inserts, WAL append) while the previous sync
/// runs, so a sync costs one fsync and no more; the writes per sync grow with the load and the disk's latency.
/// See docs/storage-paxos.md.
/// </summary>
/// <remarks>
/// A callback runs on the write loop and must be quick (copy prepared bytes into the batch); one that throws
/// fails only its own writer (its partial additions are rolled back to a save point). Each batch is applied
/// atomically and batches reach the log in queue order, so a crash keeps a prefix of the batches (RocksDB's
/// point-in-time WAL recovery); nobody was told "durable" for any batch a crash can lose. A written batch is
/// visible to readers before its sync: nothing in Kv acts on state read back from RocksDB before its writer's
/// task has completed. Each loop blocks one thread-pool thread while it is in RocksDB.
/// </remarks>
public sealed class GroupCommitter : IAsyncDisposable
{
    // Written-but-unsynced batches the write loop may run ahead of the sync loop by; beyond it the write loop
    // waits and the queue fills, so the next batch is bigger instead of memory growing.
    private const int WrittenGroupsMax = 4;

    private readonly ICommitLog _log;
    private readonly GroupCommitOptions _options;
    private readonly Channel<PendingWrite> _queue;
    private readonly Channel<WrittenGroup> _written;
    private readonly GroupCommitStatsRecorder _stats = new();
    private readonly GroupCommitMetrics? _metrics;
    private readonly Task _writeLoop;
    private readonly Task _syncLoop;
    private int _disposed;

    /// <summary>
    /// Starts the loops over <paramref name="store"/> (unsynced writes, then <see cref="NodeStore.SyncWal"/>),
    /// recording every sync in <paramref name="metrics"/> when given.
    /// </summary>
    public GroupCommitter(NodeStore store, GroupCommitOptions? options = null, GroupCommitMetrics? metrics = null)
        : this(new NodeStoreCommitLog(store), options, metrics)
    {
    }

    /// <summary>Starts the loops over any log (tests substitute slow or failing ones).</summary>
    internal GroupCommitter(ICommitLog log, GroupCommitOptions? options = null, GroupCommitMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options ?? new GroupCommitOptions();
        _options.Validate();
        _log = log;
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(_options.QueuedWritesMax)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _written = Channel.CreateBounded<WrittenGroup>(new BoundedChannelOptions(WrittenGroupsMax)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _writeLoop = Task.Run(RunWriteLoopAsync);
        _syncLoop = Task.Run(RunSyncLoopAsync);
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
    /// writes and syncs everything already queued, and waits for both loops to end.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _queue.Writer.TryComplete();
        await _writeLoop.ConfigureAwait(false);
        await _syncLoop.ConfigureAwait(false);
    }

    private async Task RunWriteLoopAsync()
    {
        var reader = _queue.Reader;
        using var batch = new WriteBatch(); // reused: cleared after every write
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var taken = new List<PendingWrite>();
                try
                {
                    long bytes = TakeInto(batch, reader, taken);
                    if (taken.Count == 0) continue;
                    await _log.WriteAsync(batch).ConfigureAwait(false);
                    await _written.Writer.WriteAsync(new WrittenGroup(taken, bytes)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // The unsynced write failed (or, not expected, something else did): these writers were
                    // never handed to the sync loop, so they are answered here.
                    foreach (var write in taken) write.Fail(e);
                }
                finally
                {
                    batch.Clear();
                }
            }
        }
        finally
        {
            _written.Writer.TryComplete();
        }
    }

    private async Task RunSyncLoopAsync()
    {
        var reader = _written.Reader;
        var covered = new List<PendingWrite>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long bytes = 0;
            // Everything written so far: each of these batches' writes returned before the sync below starts.
            while (reader.TryRead(out var group))
            {
                covered.AddRange(group.Writes);
                bytes += group.Bytes;
            }
            try
            {
                await SyncAsync(covered, bytes).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Not expected (the sync's exception is handled), but the loop must not die with writers waiting.
                foreach (var write in covered) write.Fail(e);
            }
            covered.Clear();
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

    private async Task SyncAsync(List<PendingWrite> covered, long bytes)
    {
        Exception? failure = null;
        long started = Stopwatch.GetTimestamp();
        try
        {
            await _log.SyncAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        _stats.RecordSync(covered.Count, bytes, (long)elapsed.TotalMicroseconds, failure is not null);
        _metrics?.RecordSync(covered.Count, bytes, elapsed, failure is not null);
        // Only now, after the sync returned, is anybody told anything.
        foreach (var write in covered)
        {
            if (failure is null) write.Succeed();
            else write.Fail(failure);
        }
    }
}
