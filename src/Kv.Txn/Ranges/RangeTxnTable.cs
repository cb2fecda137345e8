using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>
/// What one range replica keeps about transactions, changed only by commands of the range's log (so every
/// replica holds the same): the records of the transactions whose home key is in the range, the locks
/// transactions hold on its keys (write locks have a staged version in the MVCC data; read locks are shared), the
/// transactions it has finished or refused (so a late duplicate of a stage cannot lock again), and per-key read
/// floors (a key a committed transaction read is not written again below that transaction's commit timestamp).
/// Every change goes into the caller's batch, mirrored in the meta column family, and is reloaded on restart.
/// </summary>
public sealed partial class RangeTxnTable
{
    private readonly ulong _rangeId;
    private readonly MvccStore _mvcc;
    private readonly MetaStore _meta;
    private readonly Dictionary<string, TxnRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TxnLock>> _locks = new(StringComparer.Ordinal);
    // Span read locks (scans): few at a time, so a list searched by containment.
    private readonly List<TxnLock> _spanLocks = [];
    private readonly Dictionary<string, FinishedTxn> _finished = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReadFloor> _floors = new(StringComparer.Ordinal);
    // Staged values written by this batch or earlier, kept so a resolve needs no read of a batch not yet written.
    private readonly Dictionary<(string Key, string Txn), (byte[]? Value, bool Tombstone)> _stagedValues = new();
    private StorageTimestamp _floorLow;
    private StorageTimestamp _closed;
    private StorageTimestamp _nextExpiry;

    /// <summary>Loads the range's transaction state from the meta column family.</summary>
    public RangeTxnTable(ulong rangeId, MvccStore mvcc, MetaStore meta)
    {
        ArgumentNullException.ThrowIfNull(mvcc);
        ArgumentNullException.ThrowIfNull(meta);
        _rangeId = rangeId;
        _mvcc = mvcc;
        _meta = meta;
        string prefix = TxnStateKeys.Prefix(rangeId);
        foreach (var (key, value) in meta.List(prefix))
        {
            var kind = key.AsSpan(prefix.Length);
            if (kind.StartsWith("record/")) Remember(MetaStore.Decode(key, value, TxnRecord.Parser.ParseFrom));
            else if (kind.StartsWith("lock/") || kind.StartsWith("span-lock/")) AddLock(MetaStore.Decode(key, value, TxnLock.Parser.ParseFrom));
            else if (kind.StartsWith("finished/")) RememberFinished(MetaStore.Decode(key, value, FinishedTxn.Parser.ParseFrom));
            else if (kind.StartsWith("floor/")) RememberFloor(MetaStore.Decode(key, value, ReadFloor.Parser.ParseFrom));
            else if (kind.SequenceEqual("floor-low")) _floorLow = TxnWire.ToStorage(MetaStore.Decode(key, value, Kv.Proto.V1.Timestamp.Parser.ParseFrom));
            else if (kind.SequenceEqual("closed")) _closed = TxnWire.ToStorage(MetaStore.Decode(key, value, Kv.Proto.V1.Timestamp.Parser.ParseFrom));
        }
    }

    // Kept as a counter so that status readers on other threads need not walk the dictionaries.
    private volatile int _lockCount;

    /// <summary>Locks held on the range's keys right now (safe to read from any thread; may be a moment stale).</summary>
    public int LockCount => _lockCount;

    /// <summary>
    /// The closed timestamp: no stage commits at or below it here any more, so reads at or below it are stable
    /// (read it on the range's loop).
    /// </summary>
    public StorageTimestamp Closed => _closed;

    /// <summary>Raises the closed timestamp to <paramref name="closed"/> (a TxnCloseTimestamp command); never lowers it.</summary>
    public void Close(WriteBatch batch, StorageTimestamp closed)
    {
        if (closed <= _closed) return;
        _closed = closed;
        _meta.Put(batch, TxnStateKeys.Closed(_rangeId), TxnWire.ToWire(_closed).ToByteArray());
    }

    /// <summary>Records of transactions whose home key is in the range.</summary>
    public int RecordCount => _records.Count;

    /// <summary>The locks on <paramref name="key"/> (empty when none).</summary>
    public IReadOnlyList<TxnLock> LocksOn(ReadOnlySpan<byte> key) =>
        _locks.TryGetValue(TxnWire.Hex(key), out var held) ? held : [];

    /// <summary>Every lock held in the range, oldest stage first: for the sweeper.</summary>
    public IReadOnlyList<TxnLock> AllLocks() =>
        _locks.Values.SelectMany(l => l).Concat(_spanLocks).OrderBy(l => TxnWire.ToStorage(l.StagedAt)).ToList();

    /// <summary>The span read locks whose span holds <paramref name="key"/>.</summary>
    public IEnumerable<TxnLock> SpanLocksCovering(ReadOnlySpan<byte> key)
    {
        var found = new List<TxnLock>();
        foreach (var held in _spanLocks)
            if (key.SequenceCompareTo(held.Key.Span) >= 0 && (held.SpanEnd.IsEmpty || key.SequenceCompareTo(held.SpanEnd.Span) < 0)) found.Add(held);
        return found;
    }

    /// <summary>The record of a transaction homed here, or null.</summary>
    public TxnRecord? RecordOf(ByteString txnId) => _records.GetValueOrDefault(TxnWire.Hex(txnId));

    /// <summary>Records still PENDING or STAGING, or COMMITTED and not yet forgotten: for the sweeper.</summary>
    public IReadOnlyList<TxnRecord> UnfinishedRecords() =>
        _records.Values.Where(r => r.Status is TxnStatus.Pending or TxnStatus.Staging || (r.Status == TxnStatus.Committed && !r.Forgotten)).ToList();

    private void Remember(TxnRecord record) => _records[TxnWire.Hex(record.TxnId)] = record;

    private void RememberFinished(FinishedTxn finished) => _finished[TxnWire.Hex(finished.TxnId)] = finished;

    private void RememberFloor(ReadFloor floor) => _floors[TxnWire.Hex(floor.Key)] = floor;

    private void AddLock(TxnLock held)
    {
        if (held.Span)
        {
            _lockCount -= _spanLocks.RemoveAll(l => l.TxnId.Equals(held.TxnId) && l.Key.Equals(held.Key));
            _spanLocks.Add(held);
            _lockCount++;
            return;
        }
        string key = TxnWire.Hex(held.Key);
        if (!_locks.TryGetValue(key, out var list)) _locks[key] = list = [];
        _lockCount -= list.RemoveAll(l => l.TxnId.Equals(held.TxnId));
        list.Add(held);
        _lockCount++;
    }

    private void PutRecord(WriteBatch batch, TxnRecord record)
    {
        Remember(record);
        _meta.Put(batch, TxnStateKeys.Record(_rangeId, TxnWire.Hex(record.TxnId)), record.ToByteArray());
    }

    private void DeleteRecord(WriteBatch batch, string txnHex)
    {
        _records.Remove(txnHex);
        _meta.Delete(batch, TxnStateKeys.Record(_rangeId, txnHex));
    }

    private void PutLock(WriteBatch batch, TxnLock held)
    {
        AddLock(held);
        _meta.Put(batch, LockKey(held), held.ToByteArray());
    }

    private string LockKey(TxnLock held) => held.Span
        ? TxnStateKeys.SpanLock(_rangeId, TxnWire.Hex(held.Key), TxnWire.Hex(held.TxnId))
        : TxnStateKeys.Lock(_rangeId, TxnWire.Hex(held.Key), TxnWire.Hex(held.TxnId));

    private void DeleteLock(WriteBatch batch, TxnLock held)
    {
        string key = TxnWire.Hex(held.Key);
        if (held.Span)
        {
            _lockCount -= _spanLocks.RemoveAll(l => l.TxnId.Equals(held.TxnId) && l.Key.Equals(held.Key));
            _meta.Delete(batch, LockKey(held));
            return;
        }
        if (_locks.TryGetValue(key, out var list))
        {
            _lockCount -= list.RemoveAll(l => l.TxnId.Equals(held.TxnId));
            if (list.Count == 0) _locks.Remove(key);
        }
        _stagedValues.Remove((key, TxnWire.Hex(held.TxnId)));
        _meta.Delete(batch, LockKey(held));
    }

    private void PutFinished(WriteBatch batch, ByteString txnId, bool committed, StorageTimestamp at)
    {
        var finished = new FinishedTxn { TxnId = txnId, Committed = committed, At = TxnWire.ToWire(at) };
        RememberFinished(finished);
        _meta.Put(batch, TxnStateKeys.Finished(_rangeId, TxnWire.Hex(txnId)), finished.ToByteArray());
    }

    private void RaiseFloor(WriteBatch batch, ByteString key, StorageTimestamp floor)
    {
        string hex = TxnWire.Hex(key);
        if (_floors.TryGetValue(hex, out var current) && TxnWire.ToStorage(current.Floor) >= floor) return;
        var raised = new ReadFloor { Key = key, Floor = TxnWire.ToWire(floor) };
        RememberFloor(raised);
        _meta.Put(batch, TxnStateKeys.Floor(_rangeId, hex), raised.ToByteArray());
    }

    private void RaiseFloorLow(WriteBatch batch, StorageTimestamp floor)
    {
        if (floor <= _floorLow) return;
        _floorLow = floor;
        _meta.Put(batch, TxnStateKeys.FloorLow(_rangeId), TxnWire.ToWire(_floorLow).ToByteArray());
    }

    private StorageTimestamp FloorOf(ByteString key) =>
        _floors.TryGetValue(TxnWire.Hex(key), out var floor) && TxnWire.ToStorage(floor.Floor) > _floorLow
            ? TxnWire.ToStorage(floor.Floor)
            : _floorLow;
}
