using Kv.Proto.V1;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>
/// Transaction records (commit manifests) in their home range. The transitions are conditional so that exactly one
/// of commit and abort is ever chosen for a transaction: STAGING is created only where there is no record (or a PENDING
/// one: a pessimistic transaction's, no commit begun), COMMITTED only follows STAGING, and ABORTED replaces anything but
/// COMMITTED.
/// </summary>
public sealed partial class RangeTxnTable
{
    /// <summary>Applies a record operation; the result carries the record as it is afterwards.</summary>
    public TxnCommandResult ApplyRecord(WriteBatch batch, TxnRecordOp op, StorageTimestamp now)
    {
        ArgumentNullException.ThrowIfNull(op);
        var existing = RecordOf(op.TxnId);
        var commitTs = TxnWire.ToStorage(op.CommitTimestamp);
        switch (op.Kind)
        {
            case TxnRecordOp.Types.Kind.Query:
                return Answer(existing, ok: true);
            case TxnRecordOp.Types.Kind.Stage:
                // A PENDING record (a pessimistic transaction's, no commit begun) becomes this manifest.
                if (existing is not null && existing.Status != TxnStatus.Pending)
                {
                    bool same = existing.Status == TxnStatus.Staging && existing.CommitTimestamp.Equals(op.CommitTimestamp);
                    return Answer(existing, ok: same || existing.Status == TxnStatus.Committed, same ? "" : $"the record is already {existing.Status}");
                }
                if (commitTs <= StorageTimestamp.Zero || AgeNanos(now, commitTs) > TxnLimits.StageAgeMax.Ticks * 100)
                    return Answer(Write(batch, op, TxnStatus.Aborted, now), ok: false, "the manifest arrived too late; the transaction is aborted");
                return Answer(Write(batch, op, TxnStatus.Staging, now), ok: true);
            case TxnRecordOp.Types.Kind.Commit:
                if (existing?.Status == TxnStatus.Committed) return Answer(existing, ok: true);
                if (existing?.Status != TxnStatus.Staging) return Answer(existing, ok: false, "only a STAGING record can commit");
                return Answer(Write(batch, Carry(existing, op), TxnStatus.Committed, now), ok: true);
            case TxnRecordOp.Types.Kind.Abort:
                if (existing?.Status == TxnStatus.Committed) return Answer(existing, ok: false, "the transaction is committed");
                if (existing?.Status == TxnStatus.Aborted) return Answer(existing, ok: true);
                if (existing is not null && op.OnlyIfAbsent && !StalePending(existing, op))
                    return Answer(existing, ok: false, existing.Status == TxnStatus.Pending ? "the transaction is alive" : "the record exists; recover it by its status");
                return Answer(Write(batch, existing is null ? op : Carry(existing, op), TxnStatus.Aborted, now), ok: true);
            case TxnRecordOp.Types.Kind.Forget:
                if (existing is null || existing.Forgotten) return Answer(existing, ok: true);
                if (existing.Status == TxnStatus.Aborted) return Answer(existing, ok: false, "the transaction is aborted");
                // STAGING too: the sender knows every stage was chosen (implicitly committed), so it is committed.
                var forgotten = existing.Clone();
                forgotten.Status = TxnStatus.Committed;
                forgotten.Keys.Clear();
                forgotten.Forgotten = true;
                forgotten.WrittenAt = TxnWire.ToWire(now);
                PutRecord(batch, forgotten);
                return Answer(forgotten, ok: true);
            case TxnRecordOp.Types.Kind.Heartbeat:
                if (existing is null) return Answer(Write(batch, op, TxnStatus.Pending, now), ok: true);
                if (existing.Status == TxnStatus.Aborted) return Answer(existing, ok: false, "the transaction was aborted");
                if (existing.Status != TxnStatus.Pending) return Answer(existing, ok: true); // its commit is under way
                var beating = existing.Clone();
                beating.WrittenAt = TxnWire.ToWire(now);
                var known = beating.Keys.ToHashSet();
                foreach (var key in op.Keys)
                    if (known.Count < TxnLimits.KeysMax && known.Add(key)) beating.Keys.Add(key);
                PutRecord(batch, beating);
                return Answer(beating, ok: true);
            default:
                return new TxnCommandResult { Ok = false, Reason = $"unknown record operation {op.Kind}" };
        }
    }

    // PENDING: no commit has begun, so an abort cannot contradict one — unless its heartbeats say it is alive.
    private static bool StalePending(TxnRecord existing, TxnRecordOp op) =>
        existing.Status == TxnStatus.Pending
        && (op.HeartbeatBefore is null || TxnWire.ToStorage(existing.WrittenAt) < TxnWire.ToStorage(op.HeartbeatBefore));

    private TxnRecord Write(WriteBatch batch, TxnRecordOp op, TxnStatus status, StorageTimestamp now)
    {
        var record = new TxnRecord
        {
            TxnId = op.TxnId,
            Status = status,
            CommitTimestamp = op.CommitTimestamp,
            HomeKey = op.HomeKey,
            WrittenAt = TxnWire.ToWire(now),
        };
        record.Keys.AddRange(op.Keys);
        PutRecord(batch, record);
        return record;
    }

    // A transition keeps what the manifest named; the op only says which transition.
    private static TxnRecordOp Carry(TxnRecord existing, TxnRecordOp op)
    {
        var carried = new TxnRecordOp { Kind = op.Kind, TxnId = existing.TxnId, HomeKey = existing.HomeKey, CommitTimestamp = existing.CommitTimestamp };
        carried.Keys.AddRange(existing.Keys);
        return carried;
    }

    private static TxnCommandResult Answer(TxnRecord? record, bool ok, string reason = "") => new()
    {
        Ok = ok,
        Reason = reason,
        Record = record ?? new TxnRecord { Status = TxnStatus.None },
    };
}
