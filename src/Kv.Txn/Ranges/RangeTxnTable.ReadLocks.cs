using Google.Protobuf;
using Kv.Proto.V1;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>
/// Pessimistic reads (docs/transactions.md §6, "Pessimistic reads"): a transaction that keeps failing validation locks
/// what it reads before reading it, with the same shared read locks and span read locks its commit's stage takes, only
/// earlier and marked pending (they are not a vote until the stage replaces them).
/// </summary>
public sealed partial class RangeTxnTable
{
    /// <summary>
    /// Takes pending read locks on the stage's reads and spans (a <see cref="TxnStage.LockOnly"/> stage), unless another
    /// transaction holds a write lock or write intent there, and exclusive ones (write intents) on its
    /// <see cref="TxnStage.WriteIntents"/>, unless another transaction holds any lock there. Validates nothing: the reads happen after, under the locks. A refusal for
    /// a lock is not remembered (the caller waits for or wounds the holder and sends the command again); a transaction
    /// already finished here (aborted, or prevented by a recovery) is refused for good.
    /// </summary>
    private TxnCommandResult LockForRead(WriteBatch batch, TxnStage stage, StorageTimestamp now)
    {
        if (_finished.TryGetValue(TxnWire.Hex(stage.TxnId), out var finished))
            return Refused(finished.Committed ? "the transaction is already committed here" : "the transaction was aborted", retryable: false);
        foreach (var read in stage.Reads)
        {
            var conflict = ConflictingLock(read.Key, stage.TxnId, forWrite: false);
            if (conflict is not null) return Blocked("another transaction is writing the key", read.Key, conflict);
        }
        foreach (var span in stage.SpanReads)
        {
            var conflict = AllPointLocks().FirstOrDefault(l => (l.Write || l.Exclusive) && !l.TxnId.Equals(stage.TxnId) && InSpan(l.Key.Span, span));
            if (conflict is not null) return Blocked("another transaction is writing into the span", conflict.Key, conflict);
        }
        foreach (var key in stage.WriteIntents)
        {
            var conflict = ConflictingLock(key, stage.TxnId, forWrite: true);
            if (conflict is not null) return Blocked("another transaction holds the key", key, conflict);
        }
        foreach (var read in stage.Reads)
        {
            // Any lock of its own (pending, staged read or write) already keeps writers out.
            if (LocksOn(read.Key.Span).Any(l => l.TxnId.Equals(stage.TxnId))) continue;
            var held = NewLock(stage, read.Key, write: false, now);
            held.Pending = true;
            PutLock(batch, held);
        }
        foreach (var span in stage.SpanReads)
        {
            if (_spanLocks.Any(l => l.TxnId.Equals(stage.TxnId) && SpanCovers(l, span))) continue;
            var held = NewLock(stage, span.StartKey, write: false, now);
            held.Span = true;
            held.SpanEnd = span.EndKey;
            held.Pending = true;
            PutLock(batch, held); // replaces a narrower one with the same start
        }
        foreach (var key in stage.WriteIntents)
        {
            if (LocksOn(key.Span).Any(l => l.TxnId.Equals(stage.TxnId) && (l.Write || l.Exclusive))) continue;
            var held = NewLock(stage, key, write: false, now);
            held.Pending = true;
            held.Exclusive = true;
            PutLock(batch, held); // replaces its own shared lock on the key
        }
        return new TxnCommandResult { Ok = true };
    }

    /// <summary>Whether the span lock <paramref name="held"/> covers all of <paramref name="span"/>.</summary>
    private static bool SpanCovers(TxnLock held, TxnSpanRead span) =>
        span.StartKey.Span.SequenceCompareTo(held.Key.Span) >= 0
        && (held.SpanEnd.IsEmpty || (!span.EndKey.IsEmpty && span.EndKey.Span.SequenceCompareTo(held.SpanEnd.Span) <= 0));

    private static TxnCommandResult Blocked(string reason, ByteString key, TxnLock conflict) => new()
    {
        Ok = false, Reason = $"{reason} ({Display(key)})", Retryable = true, Key = key, ConflictingLock = conflict,
    };
}
