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
        _recovery = new TxnRecovery(fanOut, publisher, decisions, logger);
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
        return await TxnMetrics.RecordAsync(_options.Metrics, protocol, protocol switch
        {
            CommitProtocol.Paxos => _paxos.CommitAsync(plan, commitTs, cancellationToken),
            CommitProtocol.TwoPhase => _twoPhase.CommitAsync(plan, commitTs, cancellationToken),
            _ => throw new ArgumentException($"protocol: unknown value {(int)protocol}"),
        }).ConfigureAwait(false);
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

    /// <summary>Finishes the transaction that holds <paramref name="found"/> now; false when it must be waited for (two-phase, coordinator silent).</summary>
    public Task<bool> RecoverAsync(TxnLock found, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(found);
        return Shared(TxnWire.Hex(found.TxnId), ct => _recovery.RecoverAsync(found, ct), cancellationToken);
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
        if (holder is null || holder.Priority <= plan.Priority || holder.Protocol == CommitProtocol.TwoPhase) return;
        try
        {
            await RecoverAsync(holder, _background.Stopping).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Left to ordinary recovery.
        }
    }

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
