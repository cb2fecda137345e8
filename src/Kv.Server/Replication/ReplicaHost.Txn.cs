using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Replication;

/// <summary>Reads that transactions need: at a timestamp, with the lock behind a staged version.</summary>
public sealed partial class ReplicaHost
{
    /// <summary>
    /// Reads a key at <paramref name="timestamp"/> linearizably, with the write lock of the transaction whose staged
    /// version the read met (null when it met none). Throws <see cref="RangeMovedException"/> when the range no
    /// longer holds the key.
    /// </summary>
    public async Task<(MvccReadResult Read, TxnLock? Lock)> ReadWithLockAsync(ulong rangeId, byte[] key, StorageTimestamp timestamp, CancellationToken cancellationToken) =>
        ((MvccReadResult, TxnLock?))await LinearizableAsync(rangeId, m =>
        {
            if (!m.Span.Contains(key)) throw new RangeMovedException(rangeId, "the key");
            var read = m.Read(key, timestamp);
            TxnLock? held = read.Status == MvccReadStatus.StagedVersionEncountered
                ? m.Transactions.LocksOn(key).FirstOrDefault(l => l.Write)
                : null;
            return (read, held);
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The range's closed timestamp, read at its leader (it only grows).</summary>
    public async Task<StorageTimestamp> ClosedAsync(ulong rangeId, CancellationToken cancellationToken) =>
        (StorageTimestamp)await LinearizableAsync(rangeId, m => m.Transactions.Closed, cancellationToken).ConfigureAwait(false);

    /// <summary>The write lock on each key of <paramref name="keys"/> that has one (for a scan page that met staged versions).</summary>
    public async Task<IReadOnlyList<TxnLock>> WriteLocksAsync(ulong rangeId, IReadOnlyList<byte[]> keys, CancellationToken cancellationToken) =>
        (IReadOnlyList<TxnLock>)await LinearizableAsync(rangeId,
            m => keys.Select(k => m.Transactions.LocksOn(k).FirstOrDefault(l => l.Write)).OfType<TxnLock>().ToList(),
            cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// For the sweeper: the locks and the unfinished records (STAGING, or COMMITTED and not yet forgotten) of a
    /// range this node leads that were last changed before <paramref name="before"/>. Read from the applied state
    /// without a linearizable round: a linearizable read of every led range every second woke every quiescent group
    /// (bench/idle-ranges.sh measured 49 % of a core for 1,000 idle ranges with it, 4 % without). A stale answer is harmless: every
    /// recovery the sweeper starts goes through the ranges' logs as conditional commands.
    /// </summary>
    public async Task<(IReadOnlyList<TxnLock> Locks, IReadOnlyList<TxnRecord> Records)> StaleTransactionsAsync(
        ulong rangeId, StorageTimestamp before, CancellationToken cancellationToken) =>
        ((IReadOnlyList<TxnLock>, IReadOnlyList<TxnRecord>))await LocalAsync(rangeId, m =>
        {
            IReadOnlyList<TxnLock> locks = m.Transactions.AllLocks().Where(l => Kv.Txn.TxnWire.ToStorage(l.StagedAt) < before).ToList();
            IReadOnlyList<TxnRecord> records = m.Transactions.UnfinishedRecords()
                .Where(r => Kv.Txn.TxnWire.ToStorage(r.WrittenAt) < before).ToList();
            return (locks, records);
        }, cancellationToken).ConfigureAwait(false);
}
