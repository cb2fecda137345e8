using Google.Protobuf;
using Kv.Proto.V1;
using Microsoft.Extensions.Logging;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// Finishes a transaction whose coordinator went quiet, from any node (docs/transactions.md §5). For Paxos commit:
/// read the record; a decided one is resolved as decided; no record is decided abort by creating an ABORTED one
/// (the coordinator's manifest then fails); a STAGING one is committed if every key it names is locked by the
/// transaction — asking each range, which at the same time makes sure a stage that is not there never will be —
/// and aborted otherwise (conditionally: a racing recovery may have committed it). For two-phase commit: ask the
/// coordinating node, and wait while it cannot answer. A PENDING record (a pessimistic transaction still running its
/// body) is aborted like a missing one, but only once its heartbeats are older than the recovery delay; a STAGING or
/// PENDING record written within that delay is alive and waited for — unless <c>force</c> (wound-wait, or the
/// coordinator settling its own transaction) says to finish it now.
/// </summary>
internal sealed class TxnRecovery(RangeFanOut fanOut, TxnPublisher publisher, ITwoPhaseDecisionSource decisions, ITxnClock clock, TimeSpan recoverAfter,
    ILogger logger)
{
    /// <summary>
    /// Resolves the transaction that holds <paramref name="found"/>; true when it is resolved, false when it must be
    /// waited for (two-phase with a silent coordinator, or — unless <paramref name="force"/> — alive by its record).
    /// </summary>
    public async Task<bool> RecoverAsync(TxnLock found, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(found);
        if (found.Protocol == CommitProtocol.TwoPhase)
        {
            var (decision, commitTs) = await decisions.QueryAsync(found.CoordinatorNodeId, found.TxnId, cancellationToken).ConfigureAwait(false);
            if (decision == TwoPhaseDecision.Pending) return false;
            // A participant knows only its own keys; each one is resolved by whoever meets it.
            await publisher.ResolveAsync(found.TxnId, decision == TwoPhaseDecision.Committed, commitTs, [found.Key], cancellationToken).ConfigureAwait(false);
            return true;
        }
        var record = (await publisher.RecordAsync(Op(TxnRecordOp.Types.Kind.Query, found), cancellationToken).ConfigureAwait(false)).Record;
        logger.LogInformation("Recovering transaction {Txn} (record {Status}) found on a key", TxnWire.Hex(found.TxnId), record.Status);
        switch (record.Status)
        {
            case TxnStatus.Committed:
                // A forgotten record has no keys left; the lock met is resolved with it (it may be a split's half).
                await CommitAsync(WithKey(record, found.Key), cancellationToken).ConfigureAwait(false);
                return true;
            case TxnStatus.Aborted:
                await publisher.ResolveAsync(found.TxnId, commit: false, StorageTimestamp.Zero, Union(record.Keys, found.Key), cancellationToken).ConfigureAwait(false);
                return true;
            case TxnStatus.Staging:
                if (!force && await AliveAsync(record, cancellationToken).ConfigureAwait(false)) return false;
                return await RecoverStagingAsync(record, found, cancellationToken).ConfigureAwait(false);
            default:
            {
                if (record.Status == TxnStatus.Pending && !force && await AliveAsync(record, cancellationToken).ConfigureAwait(false)) return false;
                // No record (or PENDING: no commit begun): abort — but only if there still is none. The manifest may
                // have been chosen since the query, and a STAGING record may be implicitly committed: then recover it
                // by the rules for STAGING. A PENDING one that heartbeated meanwhile is left alone (unless forced).
                var abort = await publisher.RecordAsync(new TxnRecordOp
                {
                    Kind = TxnRecordOp.Types.Kind.Abort, TxnId = found.TxnId, HomeKey = found.HomeKey, OnlyIfAbsent = true,
                    HeartbeatBefore = force ? null : TxnWire.ToWire(await StaleBeforeAsync(cancellationToken).ConfigureAwait(false)),
                }, cancellationToken).ConfigureAwait(false);
                switch (abort.Record.Status)
                {
                    case TxnStatus.Pending:
                        return false;
                    case TxnStatus.Staging:
                        return await RecoverStagingAsync(abort.Record, found, cancellationToken).ConfigureAwait(false);
                    case TxnStatus.Committed:
                        await CommitAsync(WithKey(abort.Record, found.Key), cancellationToken).ConfigureAwait(false);
                        return true;
                    default:
                        await publisher.ResolveAsync(found.TxnId, commit: false, StorageTimestamp.Zero, Union(abort.Record.Keys, found.Key), cancellationToken)
                            .ConfigureAwait(false);
                        return true;
                }
            }
        }
    }

    /// <summary>Finishes a PENDING or STAGING record found by the sweeper (its coordinator went quiet), unless it is alive.</summary>
    public Task<bool> RecoverRecordAsync(TxnRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var anyKey = new TxnLock { TxnId = record.TxnId, HomeKey = record.HomeKey, Key = record.HomeKey, Protocol = CommitProtocol.Paxos };
        return record.Status switch
        {
            TxnStatus.Staging or TxnStatus.Pending => RecoverAsync(anyKey, force: false, cancellationToken),
            TxnStatus.Committed => CommitThenTrue(record, cancellationToken),
            _ => Task.FromResult(true),
        };
    }

    // Its coordinator wrote the record (a manifest, or a heartbeat) within the recovery delay: it is alive.
    private async Task<bool> AliveAsync(TxnRecord record, CancellationToken cancellationToken) =>
        TxnWire.ToStorage(record.WrittenAt) >= await StaleBeforeAsync(cancellationToken).ConfigureAwait(false);

    private async Task<StorageTimestamp> StaleBeforeAsync(CancellationToken cancellationToken)
    {
        var now = await clock.NowAboveAsync(StorageTimestamp.Zero, cancellationToken).ConfigureAwait(false);
        return new StorageTimestamp(now.WallNanos - recoverAfter.Ticks * 100, 0);
    }

    private async Task<bool> CommitThenTrue(TxnRecord record, CancellationToken cancellationToken)
    {
        await CommitAsync(record, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> RecoverStagingAsync(TxnRecord record, TxnLock found, CancellationToken cancellationToken)
    {
        bool allStaged = true;
        foreach (var key in record.Keys)
        {
            var answer = await fanOut.ProposeAtAsync(key, new RangeCommand { TxnPrevent = new TxnPrevent { TxnId = record.TxnId, Key = key } },
                cancellationToken).ConfigureAwait(false);
            if (answer.Txn is not { Ok: true }) throw new InvalidOperationException($"a range refused the prevent: {answer.Txn?.Reason ?? answer.Error}");
            if (!answer.Txn.Staged)
            {
                allStaged = false;
                break;
            }
        }
        if (allStaged)
        {
            // Implicitly committed: every stage and the manifest are chosen. Make it explicit, then publish.
            var commit = await publisher.RecordAsync(Op(TxnRecordOp.Types.Kind.Commit, found), cancellationToken).ConfigureAwait(false);
            if (commit.Record.Status != TxnStatus.Committed)
                throw new InvalidOperationException($"transaction {TxnWire.Hex(record.TxnId)} is implicitly committed but its record is {commit.Record.Status}");
            await CommitAsync(commit.Record, cancellationToken).ConfigureAwait(false);
            return true;
        }
        return await AbortAsync(found, Union(record.Keys, found.Key), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Aborts after the STAGING rules found a key the transaction never locked — and made sure it never will — so it
    /// cannot be implicitly committed: ABORT may replace STAGING (unless a racing recovery committed it first).
    /// </summary>
    private async Task<bool> AbortAsync(TxnLock found, IReadOnlyList<ByteString> keys, CancellationToken cancellationToken)
    {
        var abort = await publisher.RecordAsync(Op(TxnRecordOp.Types.Kind.Abort, found), cancellationToken).ConfigureAwait(false);
        if (abort.Record.Status == TxnStatus.Committed)
        {
            await CommitAsync(WithKey(abort.Record, found.Key), cancellationToken).ConfigureAwait(false);
            return true;
        }
        await publisher.ResolveAsync(found.TxnId, commit: false, StorageTimestamp.Zero, keys, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private Task CommitAsync(TxnRecord record, CancellationToken cancellationToken) =>
        publisher.ResolveAsync(record.TxnId, commit: true, TxnWire.ToStorage(record.CommitTimestamp), record.Keys, cancellationToken,
            forgetHomeKey: record.HomeKey);

    private static TxnRecord WithKey(TxnRecord record, ByteString key)
    {
        if (record.Keys.Contains(key)) return record;
        var with = record.Clone();
        with.Keys.Add(key);
        return with;
    }

    private static TxnRecordOp Op(TxnRecordOp.Types.Kind kind, TxnLock found) =>
        new() { Kind = kind, TxnId = found.TxnId, HomeKey = found.HomeKey };

    private static List<ByteString> Union(IEnumerable<ByteString> keys, ByteString key)
    {
        var all = keys.ToList();
        if (!all.Contains(key)) all.Add(key);
        return all;
    }
}
