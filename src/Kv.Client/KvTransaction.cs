using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Google.Protobuf;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// An optimistic, serializable transaction over any keys of the cluster, from
/// <see cref="KvClient.BeginTransactionAsync(KvTransactionOptions?, CancellationToken)"/> (or given to the body of
/// <see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/>). Reads see the snapshot at
/// <see cref="ReadTimestamp"/> plus the transaction's own writes; writes are buffered here and sent all at once by
/// <see cref="CommitAsync"/>, which commits only if nothing the transaction read has changed since
/// (otherwise <see cref="KvTransactionConflictException"/>: run it again).
/// </summary>
/// <remarks>
/// <para>
/// Not thread-safe, like <c>DbTransaction</c>: await each call before making the next one. The <see cref="KvClient"/>
/// that created it is thread-safe, and many transactions may run at once.
/// </para>
/// <para>
/// Once <see cref="CommitAsync"/> or <see cref="RollbackAsync"/> was called (whatever the commit's outcome), every
/// further call throws <see cref="InvalidOperationException"/>. Disposing a transaction that was not committed rolls it
/// back; a rollback sends nothing (nothing was written).
/// </para>
/// </remarks>
public sealed partial class KvTransaction : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly Wire.Timestamp _readTimestamp;
    private readonly KvTransactionOptions _options;
    private readonly CancellationTokenSource? _attemptTimeout;
    private readonly TxnBuffer _buffer = new();
    private readonly ByteString _txnId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(TxnIdBytes));
    private readonly object _gate = new();
    private readonly long _begun = Stopwatch.GetTimestamp();
    private State _state;

    internal KvTransaction(KvClient client, Wire.Timestamp readTimestamp, KvTransactionOptions options, CancellationTokenSource? attemptTimeout,
        bool lockReads = false)
    {
        _client = client;
        _lockReads = lockReads;
        _readTimestamp = readTimestamp;
        _options = options;
        _attemptTimeout = attemptTimeout;
        ReadTimestamp = new KvVersion(readTimestamp.WallNanos, readTimestamp.Logical);
    }

    private enum State { Active, Committing, Committed, Aborted, RolledBack }

    /// <summary>
    /// The commit timestamp when this client stages the commit itself: the read timestamp (a node's clock when the
    /// transaction began) moved on by the time elapsed here since, so about that node's clock now, and always above
    /// the read timestamp and so above every version read.
    /// </summary>
    private Wire.Timestamp CommitTimestamp()
    {
        long wall = _readTimestamp.WallNanos + Stopwatch.GetElapsedTime(_begun).Ticks * 100;
        return wall > _readTimestamp.WallNanos
            ? new Wire.Timestamp { WallNanos = wall }
            : new Wire.Timestamp { WallNanos = _readTimestamp.WallNanos, Logical = _readTimestamp.Logical + 1 };
    }

    /// <summary>The snapshot the transaction reads: the newest versions at or below this timestamp.</summary>
    public KvVersion ReadTimestamp { get; }

    /// <summary>Whether the transaction may still be used (not committed, rolled back, or committing).</summary>
    internal bool IsActive => _state == State.Active;

    /// <summary>The conflict that aborted this transaction, if one did (RunTransactionAsync runs the body again on it).</summary>
    internal KvTransactionConflictException? Conflict { get; private set; }

    // ---------------------------------------------------------------- Get

    /// <summary>
    /// Reads <paramref name="key"/> at the read timestamp, or from this transaction's own writes when it wrote the
    /// key (without a round trip; null for a key it deleted). Returns null when the key does not exist. A key read
    /// again is answered from the first answer, without a round trip (the snapshot does not change).
    /// </summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    /// <returns>
    /// The entry; its <see cref="KvEntry.Version"/> is the committed version read, or <c>default</c> for a value this
    /// transaction wrote.
    /// </returns>
    public async Task<KvEntry?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var k = Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ThrowIfNotActive();
            if (_buffer.TryGetWrite(k, out var write))
                return write.Value is { } v ? new KvEntry(k.Memory, v.Memory, default) : null;
            // Read before at the same timestamp: the answer cannot have changed.
            if (_buffer.TryGetPointRead(k, out var value, out var version))
                return value is null ? null : new KvEntry(k.Memory, value.Memory, ToVersion(version));
        }
        var request = new Wire.TxnReadRequest
        {
            Key = k, ReadTimestamp = _readTimestamp, Stable = StableReads, Lock = await LockSpecForAsync(k, cancellationToken).ConfigureAwait(false),
        };
        var response = await WithAttemptTimeoutAsync("Get",
            ct => _client.TxnReadAsync(request, ct), cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            ThrowIfNotActive();
            if (request.Lock is not null) NoteLocked(k);
            _buffer.RecordPointRead(k, response.Version, response.Found ? response.Value : null);
            // A put made while the read was in flight wins, as if it had been made after.
            if (_buffer.TryGetWrite(k, out var write))
                return write.Value is { } v ? new KvEntry(k.Memory, v.Memory, default) : null;
        }
        return response.Found ? new KvEntry(k.Memory, response.Value.Memory, ToVersion(response.Version)) : null;
    }

    /// <summary>Reads the UTF-8 key <paramref name="key"/> (see <see cref="GetAsync(ReadOnlyMemory{byte}, CancellationToken)"/>). Null when absent.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public Task<KvEntry?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        GetAsync(Utf8(key), cancellationToken);

    /// <summary>Reads the UTF-8 key <paramref name="key"/> and decodes its value as UTF-8; null when absent.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    public async Task<string?> GetStringAsync(string key, CancellationToken cancellationToken = default) =>
        (await GetAsync(Utf8(key), cancellationToken).ConfigureAwait(false))?.ValueString;

    // ---------------------------------------------------------------- Put and Delete

    /// <summary>
    /// Buffers a write of <paramref name="value"/> under <paramref name="key"/> (nothing is sent until the commit);
    /// later reads of this transaction see it. The key and value are copied.
    /// </summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="value">The value, at most 4 MiB.</param>
    /// <param name="cancellationToken">Checked before buffering.</param>
    /// <remarks>An attempt that locks its reads (<see cref="KvTransactionOptions.LockReadsAfterConflicts"/>) first takes the key's write intent (one round trip, once per key).</remarks>
    public Task PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        var k = Key(key);
        var v = ByteString.CopyFrom(value.Span);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ThrowIfNotActive();
            ThrowIfReadOnly();
            if (!_lockReads)
            {
                _buffer.Put(k, v);
                return Task.CompletedTask;
            }
        }
        return WriteWithIntentAsync(k, v, cancellationToken);
    }

    /// <summary>Buffers a write of the UTF-8 <paramref name="value"/> under the UTF-8 <paramref name="key"/>.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="value">The value, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Checked before buffering.</param>
    public Task PutAsync(string key, string value, CancellationToken cancellationToken = default) =>
        PutAsync(Utf8(key), Utf8(value), cancellationToken);

    /// <summary>
    /// Buffers a delete of <paramref name="key"/> (nothing is sent until the commit); later reads of this transaction
    /// find no such key. Deleting a key that does not exist is allowed.
    /// </summary>
    /// <param name="key">The key, 1 byte to 4 KiB.</param>
    /// <param name="cancellationToken">Checked before buffering.</param>
    /// <remarks>As <see cref="PutAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>, a locking attempt first takes the key's write intent.</remarks>
    public Task DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var k = Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ThrowIfNotActive();
            ThrowIfReadOnly();
            if (!_lockReads)
            {
                _buffer.Delete(k);
                return Task.CompletedTask;
            }
        }
        return WriteWithIntentAsync(k, null, cancellationToken);
    }

    /// <summary>Buffers a delete of the UTF-8 <paramref name="key"/>.</summary>
    /// <param name="key">The key, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Checked before buffering.</param>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        DeleteAsync(Utf8(key), cancellationToken);

    // ---------------------------------------------------------------- Scan

    /// <summary>
    /// The entries with keys in [<paramref name="startKey"/>, <paramref name="endKey"/>) at the read timestamp, merged
    /// with this transaction's writes (a key it wrote shows its new value; a key it deleted is absent), ascending (or
    /// descending with <see cref="KvScanOptions.Reverse"/>), fetched page by page as the caller enumerates. Unlike
    /// <see cref="KvClient.ScanAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, KvScanOptions?, CancellationToken)"/>,
    /// all pages are one snapshot. The commit checks that no key in the span changed or appeared since.
    /// </summary>
    /// <remarks>
    /// The writes merged are those made before the enumeration started. The whole span is recorded for the commit's
    /// check as soon as the first page is read, even if the enumeration stops early (a tighter span would abort less).
    /// Entries from this transaction's writes have a <c>default</c> <see cref="KvEntry.Version"/>.
    /// </remarks>
    /// <param name="startKey">The first key (inclusive); empty: from the first key.</param>
    /// <param name="endKey">The end (exclusive); empty: to the last key.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public async IAsyncEnumerable<KvEntry> ScanAsync(ReadOnlyMemory<byte> startKey, ReadOnlyMemory<byte> endKey, KvScanOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new KvScanOptions();
        if (options.PageSize < 0) throw new ArgumentOutOfRangeException(nameof(options), options.PageSize, "PageSize must be 0 (server default) or more.");
        var spanStart = ByteString.CopyFrom(startKey.Span);
        var spanEnd = ByteString.CopyFrom(endKey.Span);
        TxnScanMerger merger;
        lock (_gate)
        {
            ThrowIfNotActive();
            merger = new TxnScanMerger(_buffer.WritesIn(spanStart.Span, spanEnd.Span, options.Reverse), options.Reverse);
        }
        var start = spanStart;
        var end = spanEnd;
        long remaining = options.Limit > 0 ? options.Limit : long.MaxValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long page = options.PageSize > 0 ? options.PageSize : KvClient.ScanDefaultPage;
            var request = new Wire.TxnScanRequest
            {
                StartKey = start,
                EndKey = end,
                ReadTimestamp = _readTimestamp,
                Stable = StableReads,
                Reverse = options.Reverse,
                Limit = remaining < page ? (uint)remaining : (uint)options.PageSize,
                Lock = await LockSpecForAsync(spanStart.IsEmpty ? LowestKey : spanStart, cancellationToken).ConfigureAwait(false),
            };
            var response = await WithAttemptTimeoutAsync("Scan",
                ct => _client.TxnScanAsync(request, ct), cancellationToken).ConfigureAwait(false);
            var entries = new List<KvEntry>(response.Entries.Count);
            lock (_gate)
            {
                ThrowIfNotActive();
                if (request.Lock is not null) NoteLockedSpan(request, response, spanStart, spanEnd);
                _buffer.RecordSpan(spanStart, spanEnd);
                foreach (var e in response.Entries)
                {
                    _buffer.RecordRead(e.Key, e.Version);
                    entries.Add(new KvEntry(e.Key.Memory, e.Value.Memory, ToVersion(e.Version)));
                }
            }
            foreach (var e in merger.Page(entries))
            {
                yield return e;
                if (--remaining == 0) yield break;
            }
            if (response.ResumeKey.IsEmpty) break;
            if (options.Reverse) end = response.ResumeKey;
            else start = response.ResumeKey;
        }
        foreach (var e in merger.Rest())
        {
            yield return e;
            if (--remaining == 0) yield break;
        }
    }

    /// <summary>UTF-8 form of <see cref="ScanAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, KvScanOptions?, CancellationToken)"/>.</summary>
    /// <param name="startKey">The first key (inclusive), UTF-8; empty: from the first key.</param>
    /// <param name="endKey">The end (exclusive), UTF-8; empty: to the last key.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<KvEntry> ScanAsync(string startKey, string endKey, KvScanOptions? options = null, CancellationToken cancellationToken = default) =>
        ScanAsync(Utf8(startKey), Utf8(endKey), options, cancellationToken);

    /// <summary>The entries whose keys start with the UTF-8 <paramref name="prefix"/> (see <see cref="ScanAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, KvScanOptions?, CancellationToken)"/>).</summary>
    /// <param name="prefix">The key prefix, UTF-8, not empty.</param>
    /// <param name="options">Direction, page size, and a total limit.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public IAsyncEnumerable<KvEntry> ScanPrefixAsync(string prefix, KvScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var start = Utf8(prefix);
        return ScanAsync(start, KvClient.PrefixEnd(start), options, cancellationToken);
    }

    // ---------------------------------------------------------------- Commit and rollback

    /// <summary>
    /// Sends the writes, the versions read and the spans scanned to the cluster, which commits them atomically if
    /// nothing read has changed since the read timestamp. Returns the commit timestamp: the version of every key
    /// written. A transaction that did nothing commits without a round trip, at its read timestamp.
    /// </summary>
    /// <param name="cancellationToken">Cancels the commit; a commit cancelled after it was sent may still complete.</param>
    /// <exception cref="KvTransactionConflictException">Aborted by a conflict; nothing was written. Run the transaction again.</exception>
    /// <exception cref="KvTransactionOutcomeUnknownException">The commit was sent but its outcome could not be learnt: it may have committed.</exception>
    /// <exception cref="KvUnavailableException">No node accepted a connection: the commit was not sent, nothing was committed.</exception>
    /// <exception cref="KvInvalidArgumentException">The server refused the request (e.g. a value over the limit); nothing was committed.</exception>
    /// <exception cref="InvalidOperationException">The transaction was already committed or rolled back.</exception>
    public async Task<KvVersion> CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfAbortedWhileRunning();
        var request = new Wire.CommitTransactionRequest
        {
            TxnId = _txnId,
            ReadTimestamp = _readTimestamp,
            Protocol = _options.Protocol switch
            {
                KvCommitProtocol.Paxos => Wire.CommitProtocol.Paxos,
                KvCommitProtocol.TwoPhase => Wire.CommitProtocol.TwoPhase,
                // A pessimistic transaction's record is Paxos commit's: its locks' liveness and recovery go through it.
                _ => _lockSpec is not null ? Wire.CommitProtocol.Paxos : Wire.CommitProtocol.Default,
            },
            Isolation = _options.Isolation == KvIsolation.Snapshot ? Wire.Isolation.Snapshot : Wire.Isolation.Serializable,
            Priority = Priority,
        };
        if (_lockSpec is not null) request.HomeKey = _lockSpec.HomeKey;
        bool empty;
        lock (_gate)
        {
            ThrowIfNotActive();
            cancellationToken.ThrowIfCancellationRequested();
            _state = State.Committing;
            // A read-only transaction's reads were stable: there is nothing to check or to write.
            empty = _buffer.IsEmpty || _options.ReadOnly;
            _buffer.CopyTo(request);
        }
        if (empty)
        {
            _state = State.Committed;
            return ReadTimestamp;
        }
        try
        {
            var response = await WithAttemptTimeoutAsync("Commit",
                async ct => await _client.TxnStagedCommitAsync(request, CommitTimestamp(), ct).ConfigureAwait(false)
                    ?? await _client.TxnCommitAsync(request, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            _state = State.Committed;
            return ToVersion(response.CommitTimestamp);
        }
        catch (Exception)
        {
            _state = State.Aborted; // aborted, failed or unknown: either way this object is done
            throw;
        }
        finally
        {
            // The commit settled the locks (or its outcome is unknown and the record settles them): no more heartbeats.
            await StopHeartbeatsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Abandons the transaction: its buffered writes are dropped and nothing is sent. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">The transaction was already committed (or its commit was attempted).</exception>
    /// <remarks>A transaction that read with locks (<see cref="KvTransactionOptions.LockReadsAfterConflicts"/>) releases them (one call, best effort).</remarks>
    public async ValueTask RollbackAsync()
    {
        lock (_gate)
        {
            if (_state is State.RolledBack) return;
            ThrowIfNotActive();
            _state = State.RolledBack;
        }
        await ReleaseLocksAsync().ConfigureAwait(false);
        _attemptTimeout?.Dispose();
    }

    /// <summary>
    /// Rolls the transaction back unless it was committed (nothing is sent, except that read locks are released), and
    /// releases its timer.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        bool rolledBack;
        lock (_gate)
        {
            rolledBack = _state is State.Active;
            if (rolledBack) _state = State.RolledBack;
        }
        if (rolledBack) await ReleaseLocksAsync().ConfigureAwait(false);
        else await StopHeartbeatsAsync().ConfigureAwait(false);
        _attemptTimeout?.Dispose();
    }

    // ---------------------------------------------------------------- machinery

    /// <summary>The size of a transaction id.</summary>
    internal const int TxnIdBytes = 16;

    /// <summary>
    /// Runs one call of this transaction under the caller's token and the attempt timeout; the timeout passing
    /// becomes <see cref="KvErrorCode.DeadlineExceeded"/> (an unknown outcome for the commit, which was in flight).
    /// </summary>
    private async Task<T> WithAttemptTimeoutAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await WithAttemptTimeoutCoreAsync(operation, call, cancellationToken).ConfigureAwait(false);
        }
        catch (KvTransactionConflictException e)
        {
            Conflict = e; // whichever call it came from, the transaction cannot commit: RunTransactionAsync runs it again
            throw;
        }
    }

    private async Task<T> WithAttemptTimeoutCoreAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (_attemptTimeout is null) return await call(cancellationToken).ConfigureAwait(false);
        CancellationTokenSource linked;
        try
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _attemptTimeout.Token);
        }
        catch (ObjectDisposedException)
        {
            throw Finished();
        }
        using (linked)
        {
            try
            {
                return await call(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && _attemptTimeout.IsCancellationRequested)
            {
                string limit = $"the transaction's attempt timeout of {_options.AttemptTimeout!.Value.TotalSeconds:0.###} s passed during {operation}";
                if (operation == "Commit")
                    throw new KvTransactionOutcomeUnknownException($"The transaction's outcome is unknown: {limit}, after the commit was sent; it may have committed. Read its keys to find out.", e);
                throw new KvException(KvErrorCode.DeadlineExceeded, $"{char.ToUpperInvariant(limit[0])}{limit[1..]}. Nothing was committed; raise KvTransactionOptions.AttemptTimeout if the transaction needs longer.", e);
            }
        }
    }

    /// <summary>Wound-wait priority sent with the commit (smaller is older and stronger); 0: the read timestamp's.</summary>
    internal long Priority { get; set; }

    // Read-only and snapshot transactions read a snapshot that can no longer change; serializable ones need not
    // (their reads are validated at commit) and so do not make ranges close timestamps under concurrent writers.
    private bool StableReads => _options.ReadOnly || _options.Isolation == KvIsolation.Snapshot;

    private void ThrowIfReadOnly()
    {
        if (_options.ReadOnly) throw new InvalidOperationException("This is a read-only transaction (KvTransactionOptions.ReadOnly); it cannot write.");
    }

    private void ThrowIfNotActive()
    {
        if (_state != State.Active) throw Finished();
    }

    private InvalidOperationException Finished() => _state switch
    {
        State.Committing => new InvalidOperationException("The transaction is committing; it can no longer be used."),
        State.Committed => new InvalidOperationException("The transaction was committed; begin a new one for further work."),
        State.Aborted => new InvalidOperationException("The transaction's commit failed; begin a new one (or use RunTransactionAsync, which runs the body again)."),
        _ => new InvalidOperationException("The transaction was rolled back; begin a new one for further work."),
    };

    private static ByteString Key(ReadOnlyMemory<byte> key)
    {
        if (key.IsEmpty) throw new KvInvalidArgumentException("key", "must not be empty");
        return ByteString.CopyFrom(key.Span);
    }

    private static KvVersion ToVersion(Wire.Timestamp? t) => KvClient.ToVersion(t);

    private static byte[] Utf8(string s) => KvClient.Utf8(s);
}
