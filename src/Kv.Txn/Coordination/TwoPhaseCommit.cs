using System.Collections.Concurrent;
using Google.Protobuf;
using Kv.Proto.V1;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// Classic two-phase commit, the baseline (docs/transactions.md §7), over the same ranges and the same stage
/// command (the prepare): every range prepares through its Paxos log; then this node, alone, logs the decision on
/// its own disk and answers; then it tells the ranges. A prepared range that loses this node waits for it.
/// Presumed abort: a transaction this node is not running and never decided is aborted when asked about.
/// </summary>
internal sealed class TwoPhaseCommit(ulong nodeId, RangeFanOut fanOut, TxnPublisher publisher, BackgroundWork background,
    ITwoPhaseDecisionLog log, ITxnFailPoints? failPoints, Func<CommitPlan, TxnLock?, Task> wound)
{
    private readonly ConcurrentDictionary<string, bool> _active = new(StringComparer.Ordinal);
    private readonly object _decideGate = new();

    public async Task<CommitOutcome> CommitAsync(CommitPlan plan, StorageTimestamp commitTs, CancellationToken cancellationToken)
    {
        string txn = TxnWire.Hex(plan.TxnIdBytes);
        // Registered before any prepare, so that a participant's question finds it running, never "presumed aborted".
        _active[txn] = true;
        try
        {
            await ReachedAsync(TxnStep.BeforeStage, cancellationToken).ConfigureAwait(false);
            var items = plan.CutAtRanges(fanOut.Locate);
            List<(List<StageItem> Items, RangeCommandResult Result)>? prepared = null;
            Exception? failure = null;
            try
            {
                prepared = await fanOut.ProposeAsync(items, i => i.Key, items => plan.StageCommand(items, commitTs, CommitProtocol.TwoPhase, nodeId),
                    cancellationToken, failPoints is null ? null : i => i == 0 ? ReachedAsync(TxnStep.BetweenStages, cancellationToken) : default,
                    fixedToRange: i => i.Span is not null).ConfigureAwait(false);
                await ReachedAsync(TxnStep.AfterStagesBeforeDecision, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not TxnCoordinatorStoppedException)
            {
                failure = e;
            }
            var refused = prepared?.FirstOrDefault(p => !p.Result.Succeeded).Result;
            bool commit = failure is null && refused is null;
            await log.RecordAsync(plan.TxnIdBytes, commit, commitTs, background.Stopping).ConfigureAwait(false);
            var keys = items.Select(i => i.Key).ToList();
            background.Start(commit ? "publish" : "abort", async ct =>
            {
                await ReachedAsync(TxnStep.AfterDecisionBeforePublish, ct).ConfigureAwait(false);
                await publisher.ResolveAsync(plan.TxnIdBytes, commit, commitTs, keys, ct,
                    failPoints is null ? null : i => i == 0 ? ReachedAsync(TxnStep.DuringPublish, ct) : default).ConfigureAwait(false);
            });
            if (commit) return CommitOutcome.Committed(commitTs);
            var conflict = refused?.Txn?.ConflictingLock;
            var conflictKey = refused?.Txn is { Key.IsEmpty: false } t ? t.Key : null;
            await wound(plan, conflict).ConfigureAwait(false);
            string reason = refused?.Txn?.Reason is { Length: > 0 } r ? r : refused?.Error ?? $"a range could not be reached ({failure?.Message})";
            return new CommitOutcome(CommitStatus.Conflict, StorageTimestamp.Zero, reason, conflictKey ?? conflict?.Key, conflict?.TxnId);
        }
        finally
        {
            lock (_decideGate) _active.TryRemove(txn, out _);
        }
    }

    /// <summary>A participant's question: the decision, pending while running, else presumed abort (logged first).</summary>
    public async Task<(TwoPhaseDecision, StorageTimestamp)> DecisionAsync(ByteString txnId, CancellationToken cancellationToken)
    {
        // Running first, then the log: a coordinator logs its decision before it stops running the transaction, so
        // one that is no longer running has its decision (if any) in the log by now.
        lock (_decideGate)
        {
            if (_active.ContainsKey(TxnWire.Hex(txnId))) return (TwoPhaseDecision.Pending, StorageTimestamp.Zero);
        }
        if (log.Find(txnId) is { } decided) return (decided.Commit ? TwoPhaseDecision.Committed : TwoPhaseDecision.Aborted, decided.CommitTs);
        // Not running here and never decided (this node restarted, or the prepare outlived it): abort, durably,
        // so that nothing can commit it later.
        await log.RecordAsync(txnId, commit: false, StorageTimestamp.Zero, cancellationToken).ConfigureAwait(false);
        return (TwoPhaseDecision.Aborted, StorageTimestamp.Zero);
    }

    private ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken) =>
        failPoints?.ReachedAsync(step, cancellationToken) ?? default;
}
