using System.Collections.Concurrent;
using Google.Protobuf;
using Kv.Proto.V1;
using Microsoft.Extensions.Logging;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// A node's transaction coordinator: commits transactions with Paxos commit or two-phase commit, answers other
/// nodes' questions about its two-phase decisions, and finishes transactions whose locks it meets after their
/// coordinator went quiet. One per node; thread-safe.
/// </summary>
public sealed class TxnCoordinator : IAsyncDisposable
{
    private readonly ITxnClock _clock;
    private readonly TxnCoordinatorOptions _options;
    private readonly BackgroundWork _background;
    private readonly PaxosCommit _paxos;
    private readonly TwoPhaseCommit _twoPhase;
    private readonly TxnRecovery _recovery;
    private readonly TxnPublisher _publisher;
    private readonly RangeFanOut _fanOut;
    private readonly ReadLocks _readLocks;
    private readonly ConcurrentDictionary<string, Task<bool>> _recovering = new(StringComparer.Ordinal);

    /// <summary>Creates the coordinator of node <paramref name="nodeId"/>.</summary>
    public TxnCoordinator(ulong nodeId, ITxnRanges ranges, ITxnClock clock, ITwoPhaseDecisionLog decisionLog, ITwoPhaseDecisionSource decisions,
        TxnCoordinatorOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(decisionLog);
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _clock = clock;
        _options = options;
        _background = new BackgroundWork(logger);
        var fanOut = new RangeFanOut(ranges);
        var publisher = new TxnPublisher(fanOut, logger);
        _fanOut = fanOut;
        _publisher = publisher;
        _recovery = new TxnRecovery(fanOut, publisher, decisions, clock, options.RecoverAfter, logger);
        _readLocks = new ReadLocks(ranges, WoundHolderAsync, WaitOrRecoverAsync);
        _paxos = new PaxosCommit(nodeId, fanOut, publisher, _background, options.FailPoints, WoundAsync, _recovery);
        _twoPhase = new TwoPhaseCommit(nodeId, fanOut, publisher, _background, decisionLog, options.FailPoints, WoundAsync);
    }

    /// <summary>
    /// Commits a transaction: validates the request, picks a commit timestamp above everything it read, and runs
    /// the requested protocol. Returns committed or aborted (retryable); throws <see cref="ArgumentException"/> for a
    /// malformed request and <see cref="TxnOutcomeUnknownException"/> when the outcome could not be learnt.
    /// </summary>
    public async Task<CommitOutcome> CommitAsync(CommitTransactionRequest request, CancellationToken cancellationToken)
    {
        var plan = CommitPlan.From(request);
        var commitTs = await _clock.NowAboveAsync(plan.Floor, cancellationToken).ConfigureAwait(false);
        if (plan.Items.Count == 0) return CommitOutcome.Committed(commitTs);
        var protocol = request.Protocol == CommitProtocol.Default ? _options.DefaultProtocol : request.Protocol;
        // A pessimistic transaction's liveness and recovery go through its record, which two-phase commit does not keep.
        if (plan.Pessimistic && protocol == CommitProtocol.TwoPhase)
            throw new ArgumentException("protocol: a pessimistic transaction (home_key set) commits with Paxos commit, not two-phase commit");
        return await TxnMetrics.RecordAsync(_options.Metrics, protocol, protocol switch
        {
            CommitProtocol.Paxos => _paxos.CommitAsync(plan, commitTs, cancellationToken),
            CommitProtocol.TwoPhase => _twoPhase.CommitAsync(plan, commitTs, cancellationToken),
            _ => throw new ArgumentException($"protocol: unknown value {(int)protocol}"),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// One range's part of a commit the client stages itself (docs/transactions.md §3, "Staged by the client"):
    /// checks it, moves this node's clock past its commit timestamp (so that reads here afterwards see the commit), and
    /// stages it through the range's log. Throws <see cref="ArgumentException"/> for a malformed part, also one whose
    /// protocol is not Paxos commit (with the default protocol: this node's default is two-phase commit).
    /// </summary>
    public async Task<StagePartOutcome> StageAsync(TxnStageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var part = request.Part ?? throw new ArgumentException("part: required");
        var plan = CommitPlan.ForPart(part, request.HomeKey);
        var protocol = part.Protocol == CommitProtocol.Default ? _options.DefaultProtocol : part.Protocol;
        if (protocol != CommitProtocol.Paxos)
            throw new ArgumentException(part.Protocol == CommitProtocol.Default
                ? "part.protocol: this cluster's default protocol is two-phase commit, which the client cannot stage; send Commit"
                : $"part.protocol: only Paxos commit is staged by the client; {protocol} commits with Commit");
        var commitTs = TxnWire.ToStorage(request.CommitTimestamp);
        if (commitTs <= plan.Floor) throw new ArgumentException("commit_timestamp: must be above read_timestamp and every version read");
        await _clock.NowAboveAsync(commitTs, cancellationToken).ConfigureAwait(false);
        return await _paxos.StagePartAsync(plan, commitTs, request.ManifestKeys, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a commit the client staged, as the client saw its parts end (<see cref="TxnFinishRequest.Types.Outcome"/>).
    /// Returns committed or aborted; throws <see cref="ArgumentException"/> for a malformed request and
    /// <see cref="TxnOutcomeUnknownException"/> when the outcome could not be settled.
    /// </summary>
    public Task<CommitOutcome> FinishAsync(TxnFinishRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = CommitPlan.ForFinish(request.TxnId, request.HomeKey, request.Priority, request.Keys);
        var commitTs = TxnWire.ToStorage(request.CommitTimestamp);
        if (commitTs <= StorageTimestamp.Zero) throw new ArgumentException("commit_timestamp: required (the one every part was staged at)");
        return TxnMetrics.RecordFinishAsync(_options.Metrics, _paxos.FinishStagedAsync(plan, commitTs, request.Outcome, request.Conflict));
    }

    /// <summary>Another node's question about a two-phase transaction this node coordinates.</summary>
    public Task<(TwoPhaseDecision Decision, StorageTimestamp CommitTs)> TwoPhaseDecisionAsync(ByteString txnId, CancellationToken cancellationToken) =>
        _twoPhase.DecisionAsync(txnId, cancellationToken);

    /// <summary>
    /// A reader or writer met <paramref name="found"/>: waits a little while the lock is young, and finishes its
    /// transaction once it is older than <see cref="TxnCoordinatorOptions.RecoverAfter"/>. The caller then tries
    /// again. Concurrent callers share one recovery per transaction.
    /// </summary>
    public async Task WaitOrRecoverAsync(TxnLock found, int attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(found);
        var now = await _clock.NowAboveAsync(StorageTimestamp.Zero, cancellationToken).ConfigureAwait(false);
        long ageNanos = now.WallNanos - TxnWire.ToStorage(found.StagedAt).WallNanos;
        var backoff = TimeSpan.FromMilliseconds(Math.Min(1 << Math.Min(attempt, 6), 50));
        if (ageNanos < _options.RecoverAfter.Ticks * 100)
        {
            var remaining = TimeSpan.FromTicks((_options.RecoverAfter.Ticks * 100 - ageNanos) / 100);
            await Task.Delay(remaining < backoff ? remaining : backoff, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!await RecoverAsync(found, cancellationToken).ConfigureAwait(false))
            await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Finishes the transaction that holds <paramref name="found"/> now; false when it must be waited for (two-phase
    /// with its coordinator silent, or alive by its record: a manifest or heartbeat within <see cref="TxnCoordinatorOptions.RecoverAfter"/>).
    /// </summary>
    public Task<bool> RecoverAsync(TxnLock found, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(found);
        return Shared(TxnWire.Hex(found.TxnId), ct => _recovery.RecoverAsync(found, force: false, ct), cancellationToken);
    }

    /// <summary>
    /// A pessimistic read: takes the transaction's shared read lock on <paramref name="key"/> or <paramref name="span"/>
    /// (one piece inside range <paramref name="rangeId"/>) — or, <paramref name="forWrite"/>, its exclusive write intent
    /// on the key — through the range's log, waiting for an older transaction's lock in the way and wounding a younger one's. False when the range no longer holds it (it split or moved: route
    /// again). Throws <see cref="TxnAbortedException"/> when the transaction was aborted meanwhile.
    /// </summary>
    public Task<bool> LockForReadAsync(TxnLockSpec spec, ulong rangeId, ByteString? key, TxnSpanRead? span, bool forWrite, CancellationToken cancellationToken) =>
        _readLocks.LockAsync(spec, rangeId, key, span, forWrite, cancellationToken);

    /// <summary>
    /// A pessimistic transaction's heartbeat: creates its PENDING record at <paramref name="homeKey"/> if there is none,
    /// or refreshes it and adds <paramref name="keys"/>. Returns whether the transaction was aborted, and how soon the
    /// next heartbeat is due (a quarter of the recovery delay, so that a live one is never judged stale).
    /// </summary>
    public async Task<(bool Aborted, TimeSpan Interval)> HeartbeatAsync(ByteString txnId, ByteString homeKey, IEnumerable<ByteString> keys,
        CancellationToken cancellationToken)
    {
        var op = new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Heartbeat, TxnId = ValidTxn(txnId), HomeKey = ValidHome(homeKey) };
        op.Keys.AddRange(keys);
        if (op.Keys.Count > TxnLimits.KeysMax) throw new ArgumentException($"keys: more than {TxnLimits.KeysMax} in one heartbeat");
        var result = await _publisher.RecordAsync(op, cancellationToken).ConfigureAwait(false);
        return (result.Record?.Status == TxnStatus.Aborted, _options.RecoverAfter / 4);
    }

    /// <summary>
    /// Gives up a pessimistic transaction before its commit: aborts its record unless a commit already began (then
    /// false: that commit settles it) and drops its locks on <paramref name="keys"/> and <paramref name="spans"/>.
    /// </summary>
    public async Task<bool> RollbackAsync(ByteString txnId, ByteString homeKey, IReadOnlyList<ByteString> keys, IReadOnlyList<TxnSpanRead> spans,
        CancellationToken cancellationToken)
    {
        var abort = await _publisher.RecordAsync(new TxnRecordOp
        {
            Kind = TxnRecordOp.Types.Kind.Abort, TxnId = ValidTxn(txnId), HomeKey = ValidHome(homeKey), OnlyIfAbsent = true,
        }, cancellationToken).ConfigureAwait(false);
        if (abort.Record.Status != TxnStatus.Aborted) return false;
        var all = keys.Concat(spans.SelectMany(s => CommitPlan.CutAtRanges(s, _fanOut.Locate)).Select(p => p.StartKey)).Append(homeKey)
            .Concat(abort.Record.Keys).Distinct().ToList();
        await _publisher.ResolveAsync(txnId, commit: false, StorageTimestamp.Zero, all, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Finishes a record the sweeper found STAGING (or COMMITTED and not forgotten) long after it was written.</summary>
    public Task<bool> RecoverRecordAsync(TxnRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Shared(TxnWire.Hex(record.TxnId), ct => _recovery.RecoverRecordAsync(record, ct), cancellationToken);
    }

    /// <summary>
    /// Wound-wait: <paramref name="plan"/> was refused because <paramref name="holder"/> holds one of its keys. If the
    /// holder is younger (a larger priority), finish it now — an abort unless it has committed — so the older
    /// transaction's retry finds the key free; an older holder is waited for (the retry tries again). Bounded, and
    /// best effort: a failure only leaves the holder to ordinary recovery.
    /// </summary>
    private async Task WoundAsync(CommitPlan plan, TxnLock? holder)
    {
        if (holder is null || holder.Priority <= plan.Priority) return;
        await WoundHolderAsync(holder).ConfigureAwait(false);
    }

    /// <summary>Finishes a younger <paramref name="holder"/> now, alive or not (bounded; best effort: a failure leaves it to ordinary recovery).</summary>
    private async Task WoundHolderAsync(TxnLock holder)
    {
        if (holder.Protocol == CommitProtocol.TwoPhase) return;
        try
        {
            await Shared(TxnWire.Hex(holder.TxnId) + "/wound", ct => _recovery.RecoverAsync(holder, force: true, ct), _background.Stopping)
                .WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Left to ordinary recovery.
        }
    }

    private static ByteString ValidTxn(ByteString txnId)
    {
        TxnWire.ToTxnId(txnId);
        return txnId;
    }

    private static ByteString ValidHome(ByteString homeKey) =>
        homeKey is { IsEmpty: false } ? homeKey : throw new ArgumentException("home_key: required (the first key the transaction locks)");

    /// <summary>Waits until the background work (publishing) of every commit so far is done.</summary>
    public Task DrainAsync(CancellationToken cancellationToken) => _background.DrainAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _background.DisposeAsync();

    private async Task<bool> Shared(string txn, Func<CancellationToken, Task<bool>> recover, CancellationToken cancellationToken)
    {
        // Tracked by the background work, so that disposal waits for a recovery that a caller stopped waiting for.
        var task = _recovering.GetOrAdd(txn, _ => _background.Track(recover(_background.Stopping)));
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (task.IsCompleted) _recovering.TryRemove(new KeyValuePair<string, Task<bool>>(txn, task));
        }
    }
}
