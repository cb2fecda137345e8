using Google.Protobuf;
using Kv.Proto.V1;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// Paxos commit with a parallel manifest (docs/transactions.md §3): the stages of every range and the STAGING
/// record in the home range go out at once; the transaction is committed exactly when all of them are chosen, and
/// the client is answered then, after one consensus round. The record is then marked COMMITTED and the staged
/// versions published in the background. If anything is refused, the coordinator aborts through the record
/// (conditionally: if a recovery found the transaction committed, it is committed) before answering.
/// </summary>
internal sealed partial class PaxosCommit(ulong nodeId, RangeFanOut fanOut, TxnPublisher publisher, BackgroundWork background,
    ITxnFailPoints? failPoints, Func<CommitPlan, TxnLock?, Task> wound, TxnRecovery recovery)
{
    public async Task<CommitOutcome> CommitAsync(CommitPlan plan, StorageTimestamp commitTs, CancellationToken cancellationToken)
    {
        bool sequential = failPoints is not null;
        await ReachedAsync(TxnStep.BeforeStage, cancellationToken).ConfigureAwait(false);
        // Spans are cut at range boundaries once, so that the manifest names exactly the pieces the ranges lock.
        var items = plan.CutAtRanges(fanOut.Locate);
        var keys = items.Select(i => i.Key).ToList();
        var manifest = new TxnRecordOp
        {
            Kind = TxnRecordOp.Types.Kind.Stage, TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey, CommitTimestamp = TxnWire.ToWire(commitTs),
        };
        manifest.Keys.AddRange(keys);

        List<(List<StageItem> Items, RangeCommandResult Result)> stages;
        RangeCommandResult? manifestResult = null;
        // A pessimistic transaction's home key (where its PENDING record is) need not be one of its keys; then the
        // manifest goes on its own, in parallel with the stages.
        bool rides = !sequential && plan.HasWrites && items.Any(i => i.Key.Equals(plan.HomeKey));
        Task<RangeCommandResult>? alone = null;
        try
        {
            // The manifest rides with the stage of the range that holds the home key: one command, one round. With
            // fail points it is sent on its own after the stages, so that the boundary between them exists.
            if (!sequential && plan.HasWrites && !rides)
                alone = fanOut.ProposeAtAsync(plan.HomeKey, new RangeCommand { TxnRecord = manifest }, cancellationToken);
            var staging = fanOut.ProposeAsync(items, i => i.Key, part =>
            {
                var command = plan.StageCommand(part, commitTs, CommitProtocol.Paxos, nodeId);
                if (rides && part.Any(i => i.Key.Equals(plan.HomeKey))) command.TxnStage.Manifest = manifest;
                return command;
            }, cancellationToken, sequential ? i => i == 0 ? ReachedAsync(TxnStep.BetweenStages, cancellationToken) : default : null,
                fixedToRange: i => i.Span is not null);
            if (alone is not null) await Task.WhenAll(staging, alone).ConfigureAwait(false);
            stages = await staging.ConfigureAwait(false);
            if (alone is not null) manifestResult = await alone.ConfigureAwait(false);
            if (sequential)
            {
                await ReachedAsync(TxnStep.AfterStagesBeforeDecision, cancellationToken).ConfigureAwait(false);
                if (plan.HasWrites)
                    manifestResult = await fanOut.ProposeAtAsync(plan.HomeKey, new RangeCommand { TxnRecord = manifest }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not TxnCoordinatorStoppedException)
        {
            // An answer was lost, so every stage and the manifest may have been chosen: the transaction may be
            // implicitly committed. Settle it as a recovery would, never by a blind abort.
            return plan.HasWrites
                ? await SettleAsync(plan, keys, commitTs, e).ConfigureAwait(false)
                : await AbortAsync(plan, keys, commitTs, $"a range could not be reached ({e.Message})", null, e).ConfigureAwait(false);
        }

        var refused = stages.FirstOrDefault(s => !s.Result.Succeeded).Result;
        if (refused is null && (manifestResult is null || manifestResult.Succeeded))
        {
            background.Start("publish", ct => FinishCommitAsync(plan, keys, commitTs, ct));
            return CommitOutcome.Committed(commitTs);
        }
        var why = refused ?? manifestResult!;
        return await AbortAsync(plan, keys, commitTs, why.Txn?.Reason is { Length: > 0 } r ? r : why.Error, why.Txn, null).ConfigureAwait(false);
    }

    private async Task FinishCommitAsync(CommitPlan plan, IReadOnlyList<ByteString> keys, StorageTimestamp commitTs, CancellationToken cancellationToken)
    {
        await ReachedAsync(TxnStep.AfterDecisionBeforePublish, cancellationToken).ConfigureAwait(false);
        // No COMMIT record first: a recovery that meets the record STAGING finds every key locked or published here
        // (a published key counts as staged), so it can only commit too. The range holding the record marks it
        // committed and forgotten in the same command as its keys' publication.
        await publisher.ResolveAsync(plan.TxnIdBytes, commit: true, commitTs, keys, cancellationToken,
            failPoints is null ? null : i => i == 0 ? ReachedAsync(TxnStep.DuringPublish, cancellationToken) : default,
            forgetHomeKey: plan.HasWrites ? plan.HomeKey : null).ConfigureAwait(false);
        // A pessimistic read-only transaction has no manifest; its PENDING record is done with too.
        if (plan.Pessimistic && (!plan.HasWrites || !keys.Contains(plan.HomeKey)))
            await publisher.RecordAsync(new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Forget, TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey },
                cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Decides abort through the record before answering, unless the transaction turned out committed (a recovery
    /// saw every stage chosen). Read-only transactions have no record: their locks are simply dropped.
    /// </summary>
    private async Task<CommitOutcome> AbortAsync(CommitPlan plan, IReadOnlyList<ByteString> keys, StorageTimestamp commitTs, string reason,
        TxnCommandResult? refusal, Exception? failure)
    {
        var conflict = refusal?.ConflictingLock;
        var conflictKey = refusal is { Key.IsEmpty: false } ? refusal.Key : null;
        var ct = background.Stopping;
        if (plan.HasWrites || plan.Pessimistic)
        {
            TxnCommandResult abort;
            try
            {
                abort = await publisher.RecordAsync(new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Abort, TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey },
                    ct).WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                throw new TxnOutcomeUnknownException($"transaction {plan.TxnId}: {reason}; its outcome could not be settled in time", failure ?? e);
            }
            if (abort.Record?.Status == TxnStatus.Committed)
            {
                background.Start("publish", c => FinishCommitAsync(plan, keys, TxnWire.ToStorage(abort.Record.CommitTimestamp), c));
                return CommitOutcome.Committed(TxnWire.ToStorage(abort.Record.CommitTimestamp));
            }
        }
        // The ABORTED record stays for the retention period: a late duplicate of the manifest must find it.
        background.Start("abort", c => publisher.ResolveAsync(plan.TxnIdBytes, commit: false, commitTs, keys, c));
        await wound(plan, conflict).ConfigureAwait(false);
        return new CommitOutcome(CommitStatus.Conflict, StorageTimestamp.Zero, reason, conflictKey ?? conflict?.Key, conflict?.TxnId);
    }

    private async Task<CommitOutcome> SettleAsync(CommitPlan plan, IReadOnlyList<ByteString> keys, StorageTimestamp commitTs, Exception failure)
    {
        var home = new TxnLock { TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey, Key = plan.HomeKey, Protocol = CommitProtocol.Paxos, Priority = plan.Priority };
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(background.Stopping);
        bounded.CancelAfter(TimeSpan.FromSeconds(10));
        TxnRecord record;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await recovery.RecoverAsync(home, force: true, bounded.Token).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException && e is not InvalidOperationException)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(20 * attempt, 500)), bounded.Token).ConfigureAwait(false);
                }
            }
            record = (await publisher.RecordAsync(new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Query, TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey },
                bounded.Token).ConfigureAwait(false)).Record;
        }
        catch (OperationCanceledException e)
        {
            throw new TxnOutcomeUnknownException($"transaction {plan.TxnId}: a range could not be reached ({failure.Message}); its outcome could not be settled in time", e);
        }
        if (record.Status == TxnStatus.Committed)
        {
            background.Start("publish", c => FinishCommitAsync(plan, keys, TxnWire.ToStorage(record.CommitTimestamp), c));
            return CommitOutcome.Committed(TxnWire.ToStorage(record.CommitTimestamp));
        }
        if (record.Status != TxnStatus.Aborted)
            throw new TxnOutcomeUnknownException($"transaction {plan.TxnId}: a range could not be reached ({failure.Message}); its record is still {record.Status}", failure);
        background.Start("abort", c => publisher.ResolveAsync(plan.TxnIdBytes, commit: false, commitTs, keys, c));
        return new CommitOutcome(CommitStatus.Conflict, StorageTimestamp.Zero, $"a range could not be reached ({failure.Message}); the transaction was aborted");
    }

    private ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken) =>
        failPoints?.ReachedAsync(step, cancellationToken) ?? default;
}

/// <summary>Thrown by a fail point that stops a coordinator as a crash would: nothing after it runs.</summary>
public sealed class TxnCoordinatorStoppedException(TxnStep step) : Exception($"the coordinator was stopped at {step}")
{
    /// <summary>Where it stopped.</summary>
    public TxnStep Step { get; } = step;
}
