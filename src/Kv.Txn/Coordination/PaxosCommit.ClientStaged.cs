using Google.Protobuf;
using Kv.Proto.V1;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>The outcome of one part of a client-staged commit: staged, or refused and why.</summary>
/// <param name="Staged">Every key of the part is staged (and, in the home part, the manifest is STAGING).</param>
/// <param name="Reason">Why the range refused.</param>
/// <param name="Key">The key that caused the refusal, when one did.</param>
/// <param name="ConflictingTxn">The transaction that held that key, when one did.</param>
public sealed record StagePartOutcome(bool Staged, string Reason = "", ByteString? Key = null, ByteString? ConflictingTxn = null);

/// <summary>
/// Paxos commit staged by the client (docs/transactions.md §3, "Staged by the client"): the client sends each range's
/// part straight to that range's leader, so no coordinator stands between it and the ranges; this node proposes
/// the part it was sent, and later finishes the transaction as the client saw it end. The rules are the
/// coordinator's own: the same stage commands, the same manifest riding with the home range's stage, the same
/// abort through the record and the same settling after a lost answer.
/// </summary>
internal sealed partial class PaxosCommit
{
    /// <summary>
    /// Stages <paramref name="plan"/>'s keys (one range's part) at <paramref name="commitTs"/>; the part holding the
    /// home key carries the manifest naming <paramref name="manifestKeys"/>. A refusal first wounds a younger holder
    /// of the key, so that the client's retry finds it free.
    /// </summary>
    public async Task<StagePartOutcome> StagePartAsync(CommitPlan plan, StorageTimestamp commitTs, IReadOnlyList<ByteString> manifestKeys,
        CancellationToken cancellationToken)
    {
        var manifest = ManifestOf(plan, commitTs, manifestKeys);
        var stages = await fanOut.ProposeAsync(plan.Items, i => i.Key, part =>
        {
            var command = plan.StageCommand(part, commitTs, CommitProtocol.Paxos, nodeId);
            if (manifest is not null && part.Any(i => i.Key.Equals(plan.HomeKey))) command.TxnStage.Manifest = manifest;
            return command;
        }, cancellationToken).ConfigureAwait(false);
        var refused = stages.FirstOrDefault(s => !s.Result.Succeeded).Result;
        if (refused is null) return new StagePartOutcome(true);
        var conflict = refused.Txn?.ConflictingLock;
        await wound(plan, conflict).ConfigureAwait(false);
        string reason = refused.Txn?.Reason is { Length: > 0 } r ? r : refused.Error;
        return new StagePartOutcome(false, reason, refused.Txn is { Key.IsEmpty: false } t ? t.Key : conflict?.Key, conflict?.TxnId);
    }

    /// <summary>
    /// Finishes a client-staged transaction (<paramref name="plan"/> from <see cref="CommitPlan.ForFinish"/>) as the
    /// client saw its parts end: every part staged (committed: publish in the background), a part refused (abort
    /// through the record unless a recovery found it committed), or an answer lost (settle as a recovery would).
    /// </summary>
    public Task<CommitOutcome> FinishStagedAsync(CommitPlan plan, StorageTimestamp commitTs, TxnFinishRequest.Types.Outcome outcome, TxnConflict? refusal)
    {
        var keys = plan.Items.Select(i => i.Key).ToList();
        switch (outcome)
        {
            case TxnFinishRequest.Types.Outcome.FinishStaged:
                background.Start("publish", ct => FinishCommitAsync(plan, keys, commitTs, ct));
                return Task.FromResult(CommitOutcome.Committed(commitTs));
            case TxnFinishRequest.Types.Outcome.FinishRefused:
                return RefusedAsync(plan, keys, commitTs, refusal);
            case TxnFinishRequest.Types.Outcome.FinishUnknown:
                return SettleAsync(plan, keys, commitTs, new InvalidOperationException("the client lost the answer of a range's stage"));
            default:
                throw new ArgumentException($"outcome: {outcome} is not how a commit ends");
        }
    }

    private async Task<CommitOutcome> RefusedAsync(CommitPlan plan, IReadOnlyList<ByteString> keys, StorageTimestamp commitTs, TxnConflict? refusal)
    {
        string reason = refusal is { Reason.Length: > 0 } ? refusal.Reason : "a range refused the transaction";
        var outcome = await AbortAsync(plan, keys, commitTs, reason, refusal: null, failure: null).ConfigureAwait(false);
        if (outcome.Status == CommitStatus.Committed) return outcome;
        return outcome with
        {
            Key = refusal is { Key.IsEmpty: false } ? refusal.Key : null,
            ConflictingTxn = refusal is { ConflictingTxnId.IsEmpty: false } ? refusal.ConflictingTxnId : null,
        };
    }

    /// <summary>The manifest for the part that holds the home key (null for any other part), checked against the part.</summary>
    private static TxnRecordOp? ManifestOf(CommitPlan plan, StorageTimestamp commitTs, IReadOnlyList<ByteString> manifestKeys)
    {
        if (!plan.Items.Any(i => i.Key.Equals(plan.HomeKey)))
        {
            if (manifestKeys.Count > 0) throw new ArgumentException("manifest_keys: only the part that holds home_key carries the manifest");
            return null;
        }
        if (manifestKeys.Count == 0) throw new ArgumentException("manifest_keys: required in the part that holds home_key");
        if (manifestKeys.Count > TxnLimits.KeysMax) throw new ArgumentException($"manifest_keys: more than {TxnLimits.KeysMax}");
        var named = manifestKeys.Select(TxnWire.Hex).ToHashSet(StringComparer.Ordinal);
        if (named.Count != manifestKeys.Count) throw new ArgumentException("manifest_keys: a key is named twice");
        // The manifest is the client's word for which keys were staged (a recovery checks exactly those); of them, only
        // this part's can be checked here.
        if (plan.Items.Any(i => !named.Contains(TxnWire.Hex(i.Key))))
            throw new ArgumentException("manifest_keys: must name every key of the part");
        var manifest = new TxnRecordOp
        {
            Kind = TxnRecordOp.Types.Kind.Stage, TxnId = plan.TxnIdBytes, HomeKey = plan.HomeKey, CommitTimestamp = TxnWire.ToWire(commitTs),
        };
        manifest.Keys.AddRange(manifestKeys);
        return manifest;
    }
}
