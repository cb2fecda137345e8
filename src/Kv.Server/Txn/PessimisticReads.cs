using Google.Protobuf;
using Kv.Server.Api;
using Kv.Server.Replication;
using Kv.Storage.Mvcc;
using Kv.Txn.Coordination;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Txn;

/// <summary>
/// The server's half of a pessimistic read (docs/transactions.md §6): before a transactional read or scan page with a
/// <see cref="Wire.TxnLockSpec"/> is served, the transaction's read lock is taken through the range's log; the read
/// then returns the newest committed versions, which cannot change while the lock is held.
/// </summary>
internal static class PessimisticReads
{
    /// <summary>
    /// Locks <paramref name="key"/> in <paramref name="route"/>'s range when <paramref name="spec"/> asks for it; returns
    /// the timestamp to read at (the newest under a lock, else <paramref name="at"/>).
    /// </summary>
    public static async Task<StorageTimestamp> LockKeyAsync(TxnCoordinator coordinator, Wire.TxnLockSpec? spec, bool forWrite, RangeRoute route,
        ByteString key, StorageTimestamp at, CancellationToken cancellationToken)
    {
        if (spec is null) return at;
        if (!await coordinator.LockForReadAsync(spec, route.RangeId, key, null, forWrite, cancellationToken).ConfigureAwait(false))
            throw new RangeMovedException(route.RangeId, "the key");
        return StorageTimestamp.Max;
    }

    /// <summary>As <see cref="LockKeyAsync"/> for the part <paramref name="clipped"/> of a scan inside the route's range.</summary>
    public static async Task<StorageTimestamp> LockSpanAsync(TxnCoordinator coordinator, Wire.TxnLockSpec? spec, RangeRoute route, KeySpan clipped,
        StorageTimestamp at, CancellationToken cancellationToken)
    {
        if (spec is null) return at;
        var span = new Wire.TxnSpanRead
        {
            StartKey = ByteString.CopyFrom(clipped.Start), EndKey = clipped.End is null ? ByteString.Empty : ByteString.CopyFrom(clipped.End),
        };
        if (!await coordinator.LockForReadAsync(spec, route.RangeId, null, span, forWrite: false, cancellationToken).ConfigureAwait(false))
            throw new RangeMovedException(route.RangeId, "the span");
        return StorageTimestamp.Max;
    }

    /// <summary>Refuses a request that asks for a stable read and a lock at once.</summary>
    public static void CheckNotStable(Wire.TxnLockSpec? spec, bool stable)
    {
        if (spec is not null && stable)
            throw new ArgumentException("lock: a locking read returns the newest version, a stable read a snapshot; set one of them");
    }
}
