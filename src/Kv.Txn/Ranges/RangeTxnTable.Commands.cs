using Google.Protobuf;
using Kv.Proto.V1;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>
/// The transaction commands of a range's log. Each is deterministic (it depends only on the table, the data and
/// the command's log timestamp <c>now</c>), idempotent (a duplicate changes nothing and answers alike), and the
/// caller has already checked that every key is inside the range.
/// </summary>
public sealed partial class RangeTxnTable
{
    /// <summary>
    /// Checks the transaction's keys of this range and, if every check passes, locks them: a staged version per
    /// write, a shared read lock per read. Refused (nothing locked, and the transaction remembered as refused here so
    /// that a late duplicate cannot lock either) when another transaction holds a conflicting lock, a read version is
    /// no longer the newest, a write would land at or below a newer version or a read floor, or the stage is too old.
    /// </summary>
    public TxnCommandResult Stage(WriteBatch batch, TxnStage stage, StorageTimestamp now, ITxnRangeData data)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(data);
        if (stage.LockOnly) return LockForRead(batch, stage, now);
        if (stage.Manifest is null) return StageKeys(batch, stage, now, data);
        // The manifest first: a record a recovery already wrote (ABORTED) refuses the stage, nothing locked.
        var record = ApplyRecord(batch, stage.Manifest, now);
        if (!record.Ok) return record;
        var staged = StageKeys(batch, stage, now, data);
        // Refused here: nothing can commit it any more, so it is decided at once.
        if (!staged.Ok) ApplyRecord(batch, new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Abort, TxnId = stage.TxnId, HomeKey = stage.Manifest.HomeKey }, now);
        return staged;
    }

    private TxnCommandResult StageKeys(WriteBatch batch, TxnStage stage, StorageTimestamp now, ITxnRangeData data)
    {
        string txn = TxnWire.Hex(stage.TxnId);
        var commitTs = TxnWire.ToStorage(stage.CommitTimestamp);
        if (_finished.TryGetValue(txn, out var finished))
            return Refused(finished.Committed ? "the transaction is already committed here" : "the transaction was already refused or aborted here", retryable: true);
        if (AgeNanos(now, commitTs) > TxnLimits.StageAgeMax.Ticks * 100)
            return Refuse(batch, stage.TxnId, now, $"the stage arrived more than {TxnLimits.StageAgeMax.TotalSeconds:0} s after its commit timestamp");
        // Stable reads at or below the closed timestamp have been served: nothing may commit under them now.
        if (commitTs <= _closed) return Refuse(batch, stage.TxnId, now, $"the range is closed up to {_closed}, at or above the commit timestamp");
        var readTs = TxnWire.ToStorage(stage.ReadTimestamp);

        foreach (var write in stage.Writes)
        {
            var conflict = ConflictingLock(write.Key, stage.TxnId, forWrite: true);
            if (conflict is not null) return Refuse(batch, stage.TxnId, now, "another transaction holds the key", write.Key, conflict);
            var (_, newest) = data.NewestVersion(write.Key.Span);
            if (newest >= commitTs || FloorOf(write.Key) >= commitTs)
                return Refuse(batch, stage.TxnId, now, "the key has a newer version or read than the commit timestamp", write.Key);
            // Snapshot isolation: first committer wins — anything written since the snapshot conflicts.
            if (stage.SnapshotIsolation && newest > readTs)
                return Refuse(batch, stage.TxnId, now, "the key was written after the transaction's snapshot", write.Key);
        }
        foreach (var span in stage.SpanReads)
        {
            byte[]? end = span.EndKey.IsEmpty ? null : span.EndKey.ToByteArray();
            var conflict = AllPointLocks().FirstOrDefault(l => (l.Write || l.Exclusive) && !l.TxnId.Equals(stage.TxnId) && InSpan(l.Key.Span, span));
            if (conflict is not null) return Refuse(batch, stage.TxnId, now, "another transaction is writing into a scanned span", conflict.Key, conflict);
            if (readTs <= StorageTimestamp.Zero) return Refused("a scanned span needs the read timestamp", retryable: false);
            // Locked by a pessimistic scan before it read: nothing in it can have changed since what it saw.
            if (_spanLocks.Any(l => l.TxnId.Equals(stage.TxnId) && SpanCovers(l, span))) continue;
            if (data.ChangedAfter(span.StartKey.ToByteArray(), end, readTs))
                return Refuse(batch, stage.TxnId, now, "a key in a scanned span changed or appeared after the read timestamp", span.StartKey);
        }
        foreach (var read in stage.Reads)
        {
            var conflict = ConflictingLock(read.Key, stage.TxnId, forWrite: false);
            if (conflict is not null) return Refuse(batch, stage.TxnId, now, "another transaction is writing the key", read.Key, conflict);
            var (exists, newest) = data.NewestVersion(read.Key.Span);
            var seen = TxnWire.ToStorage(read.Version);
            if ((exists ? newest : StorageTimestamp.Zero) != seen)
                return Refuse(batch, stage.TxnId, now, "a version the transaction read is no longer the newest", read.Key);
        }

        var txnId = TxnWire.ToTxnId(stage.TxnId);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in stage.Writes)
        {
            string key = TxnWire.Hex(write.Key);
            written.Add(key);
            if (HoldsLock(write.Key, stage.TxnId, write: true)) continue;
            if (write.Delete) _mvcc.StageDelete(batch, write.Key.Span, txnId, commitTs);
            else _mvcc.Stage(batch, write.Key.Span, txnId, commitTs, write.Value.Span);
            _stagedValues[(key, txn)] = (write.Delete ? null : write.Value.ToByteArray(), write.Delete);
            PutLock(batch, NewLock(stage, write.Key, write: true, now));
        }
        foreach (var read in stage.Reads)
        {
            if (written.Contains(TxnWire.Hex(read.Key)) || HoldsLock(read.Key, stage.TxnId, write: false)) continue;
            PutLock(batch, NewLock(stage, read.Key, write: false, now));
        }
        foreach (var span in stage.SpanReads)
        {
            if (_spanLocks.Any(l => l.TxnId.Equals(stage.TxnId) && l.Key.Equals(span.StartKey) && !l.Pending)) continue;
            var held = NewLock(stage, span.StartKey, write: false, now);
            held.Span = true;
            held.SpanEnd = span.EndKey;
            PutLock(batch, held);
        }
        return new TxnCommandResult { Ok = true };
    }

    /// <summary>Publishes (commit) or removes (abort) the transaction's staged versions of the keys and drops its locks on them.</summary>
    /// <returns>The result, and on commit the commit timestamp, below which the range must write nothing from now on.</returns>
    public (TxnCommandResult Result, StorageTimestamp? CommittedAt) Resolve(WriteBatch batch, TxnResolve resolve, StorageTimestamp now, ITxnRangeData data)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        ArgumentNullException.ThrowIfNull(data);
        string txn = TxnWire.Hex(resolve.TxnId);
        var commitTs = TxnWire.ToStorage(resolve.CommitTimestamp);
        if (resolve.Commit && commitTs <= StorageTimestamp.Zero)
            return (Refused("a commit needs its commit timestamp", retryable: false), null);
        // Every span lock of the transaction here goes, also the halves a split cut that the keys do not name.
        foreach (var spanHeld in _spanLocks.Where(l => l.TxnId.Equals(resolve.TxnId)).ToList())
        {
            // No key of the span may be written below the commit from now on; one range-wide floor says so.
            if (resolve.Commit) RaiseFloorLow(batch, commitTs);
            DeleteLock(batch, spanHeld);
        }
        foreach (var key in resolve.Keys)
        {
            var held = LocksOn(key.Span).FirstOrDefault(l => l.TxnId.Equals(resolve.TxnId));
            if (held is null) continue;
            if (held.Write)
            {
                if (resolve.Commit)
                {
                    var (value, tombstone) = StagedValue(key, txn);
                    data.WriteCommitted(batch, key.Span, tombstone ? null : value, commitTs);
                }
                _mvcc.ClearStaged(batch, key.Span);
            }
            else if (resolve.Commit)
            {
                RaiseFloor(batch, key, commitTs);
            }
            DeleteLock(batch, held);
        }
        PutFinished(batch, resolve.TxnId, resolve.Commit, now);
        if (resolve.Commit && !resolve.ForgetHomeKey.IsEmpty && RecordOf(resolve.TxnId) is not null)
            ApplyRecord(batch, new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Forget, TxnId = resolve.TxnId, HomeKey = resolve.ForgetHomeKey }, now);
        return (new TxnCommandResult { Ok = true }, resolve.Commit ? commitTs : null);
    }

    /// <summary>
    /// Recovery's question to a participant: is the transaction's lock on the key there? If not, the key is
    /// marked so that its stage can never apply here, and the answer is final.
    /// </summary>
    public TxnCommandResult Prevent(WriteBatch batch, TxnPrevent prevent, StorageTimestamp now)
    {
        ArgumentNullException.ThrowIfNull(prevent);
        // A pending lock (a pessimistic read's) is not a vote: only the commit's stage is.
        if (LocksOn(prevent.Key.Span).Any(l => l.TxnId.Equals(prevent.TxnId) && !l.Pending)
            || _spanLocks.Any(l => l.TxnId.Equals(prevent.TxnId) && l.Key.Equals(prevent.Key) && !l.Pending))
            return new TxnCommandResult { Ok = true, Staged = true };
        // Published here already: it was staged (and the transaction is committed).
        if (_finished.TryGetValue(TxnWire.Hex(prevent.TxnId), out var finished)) return new TxnCommandResult { Ok = true, Staged = finished.Committed };
        PutFinished(batch, prevent.TxnId, committed: false, now);
        return new TxnCommandResult { Ok = true, Staged = false };
    }

    /// <summary>A plain (non-transactional) write of the key must wait while any transaction holds a lock on it.</summary>
    public TxnLock? BlockingPlainWrite(ReadOnlySpan<byte> key) => LocksOn(key).FirstOrDefault() ?? SpanLocksCovering(key).FirstOrDefault();

    // A read conflicts with a write lock or a write intent; a write with any lock.
    private TxnLock? ConflictingLock(ByteString key, ByteString txnId, bool forWrite) =>
        LocksOn(key.Span).FirstOrDefault(l => !l.TxnId.Equals(txnId) && (forWrite || l.Write || l.Exclusive))
        ?? (forWrite ? SpanLocksCovering(key.Span).FirstOrDefault(l => !l.TxnId.Equals(txnId)) : null);

    private IEnumerable<TxnLock> AllPointLocks() => _locks.Values.SelectMany(l => l);

    private static bool InSpan(ReadOnlySpan<byte> key, TxnSpanRead span) =>
        key.SequenceCompareTo(span.StartKey.Span) >= 0 && (span.EndKey.IsEmpty || key.SequenceCompareTo(span.EndKey.Span) < 0);

    // A pending lock does not count: the stage replaces it with an ordinary one.
    private bool HoldsLock(ByteString key, ByteString txnId, bool write) =>
        LocksOn(key.Span).Any(l => l.TxnId.Equals(txnId) && l.Write == write && !l.Pending);

    private (byte[]? Value, bool Tombstone) StagedValue(ByteString key, string txn)
    {
        if (_stagedValues.TryGetValue((TxnWire.Hex(key), txn), out var kept)) return kept;
        // After a restart the value is no longer in memory, but the batch that staged it was written long ago.
        if (!_mvcc.TryGetStaged(key.Span, out var staged) || TxnWire.Hex(TxnWire.ToBytes(staged.TxnId)) != txn)
            throw new InvalidOperationException($"range {_rangeId}: a write lock of transaction {txn} on key {TxnWire.Hex(key)} has no staged version");
        return (staged.Value, staged.IsTombstone);
    }

    private static TxnLock NewLock(TxnStage stage, ByteString key, bool write, StorageTimestamp now) => new()
    {
        Key = key,
        TxnId = stage.TxnId,
        CommitTimestamp = stage.CommitTimestamp,
        HomeKey = stage.HomeKey,
        Write = write,
        Protocol = stage.Protocol,
        CoordinatorNodeId = stage.CoordinatorNodeId,
        StagedAt = TxnWire.ToWire(now),
        Priority = stage.Priority,
    };

    private TxnCommandResult Refuse(WriteBatch batch, ByteString txnId, StorageTimestamp now, string reason, ByteString? key = null, TxnLock? conflict = null)
    {
        PutFinished(batch, txnId, committed: false, now);
        var result = Refused(key is null ? reason : $"{reason} ({Display(key)})", retryable: true);
        if (key is not null) result.Key = key;
        if (conflict is not null) result.ConflictingLock = conflict;
        return result;
    }

    private static TxnCommandResult Refused(string reason, bool retryable) => new() { Ok = false, Reason = reason, Retryable = retryable };

    private static string Display(ByteString key) => key.Length <= 64 ? key.ToStringUtf8() : $"a key of {key.Length} bytes";

    private static long AgeNanos(StorageTimestamp now, StorageTimestamp then) => now.WallNanos - then.WallNanos;
}
