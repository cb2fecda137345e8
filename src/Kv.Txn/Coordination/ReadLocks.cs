using Google.Protobuf;
using Kv.Proto.V1;

namespace Kv.Txn.Coordination;

/// <summary>
/// Pessimistic reads (docs/transactions.md §6): takes a transaction's shared read lock on a key or a span piece (or its
/// exclusive write intent on a key it will write) through the range's log before the caller reads it. Another
/// transaction's lock in the way is settled by wound-wait on the priorities: a younger holder is finished now (aborted
/// unless it committed), an older one is waited for (and recovered if its coordinator went quiet). Only a younger
/// transaction ever waits, and only for an older one, so no wait can close a cycle.
/// </summary>
internal sealed class ReadLocks(ITxnRanges ranges, Func<TxnLock, Task> wound, Func<TxnLock, int, CancellationToken, Task> waitOrRecover)
{
    public async Task<bool> LockAsync(TxnLockSpec spec, ulong rangeId, ByteString? key, TxnSpanRead? span, bool forWrite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        TxnWire.ToTxnId(spec.TxnId);
        if (spec.HomeKey.IsEmpty) throw new ArgumentException("lock.home_key: required (the first key the transaction locks)");
        if (spec.Priority == 0) throw new ArgumentException("lock.priority: required (the wall time of the first attempt's read timestamp)");
        var stage = new TxnStage { TxnId = spec.TxnId, HomeKey = spec.HomeKey, Priority = spec.Priority, Protocol = CommitProtocol.Paxos, LockOnly = true };
        if (key is not null && forWrite) stage.WriteIntents.Add(key);
        else if (key is not null) stage.Reads.Add(new TxnReadDependency { Key = key });
        if (span is not null) stage.SpanReads.Add(span);
        var command = new RangeCommand { TxnStage = stage };
        for (int attempt = 0; ; attempt++)
        {
            var result = await ranges.ProposeAsync(rangeId, command, cancellationToken).ConfigureAwait(false);
            if (RangeFanOut.IsOutsideRange(result)) return false;
            if (result.Succeeded) return true;
            if (result.Txn is not { } refused) throw new InvalidOperationException($"the range refused the read lock: {result.Error}");
            if (!refused.Retryable || refused.ConflictingLock is not { } holder)
                throw new TxnAbortedException($"the transaction was aborted while it read: {refused.Reason}");
            // Two-phase holders are not wounded (their decision is their coordinator's alone): they are waited for.
            if (holder.Priority > spec.Priority && holder.Protocol != CommitProtocol.TwoPhase) await wound(holder).ConfigureAwait(false);
            else await waitOrRecover(holder, attempt, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A pessimistic transaction was aborted while it ran (wounded by an older one, or recovered after its heartbeats
/// stopped): nothing of it can commit; run it again.
/// </summary>
public sealed class TxnAbortedException(string message) : Exception(message);
