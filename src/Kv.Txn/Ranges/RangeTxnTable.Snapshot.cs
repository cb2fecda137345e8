using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Mvcc;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Ranges;

/// <summary>Snapshots, splits and expiry of the range's transaction state.</summary>
public sealed partial class RangeTxnTable
{
    /// <summary>The whole state, for a snapshot of the range.</summary>
    public RangeTxnState Capture() => Capture(_ => true, _ => true);

    /// <summary>Replaces the state with a snapshot's, writing it into <paramref name="batch"/>.</summary>
    public void Restore(WriteBatch batch, RangeTxnState? state)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var (key, _) in _meta.List(TxnStateKeys.Prefix(_rangeId))) _meta.Delete(batch, key);
        _records.Clear();
        _locks.Clear();
        _spanLocks.Clear();
        _lockCount = 0;
        _finished.Clear();
        _floors.Clear();
        _stagedValues.Clear();
        _floorLow = StorageTimestamp.Zero;
        _closed = StorageTimestamp.Zero;
        if (state is not null) Store(batch, state);
    }

    /// <summary>
    /// A split at <paramref name="splitKey"/>: the records homed at or after it, and the locks and floors of keys at
    /// or after it, move to the new right range (returned, for its genesis, and when <paramref name="writeRight"/>
    /// written under <paramref name="rightRangeId"/> into <paramref name="batch"/>); refusal markers stay in both.
    /// </summary>
    public RangeTxnState SplitOff(WriteBatch batch, ReadOnlySpan<byte> splitKey, ulong rightRangeId, bool writeRight)
    {
        byte[] split = splitKey.ToArray();
        bool Right(ByteString key) => key.Span.SequenceCompareTo(split) >= 0;
        var right = Capture(Right, Right);
        foreach (var record in _records.Values.Where(r => Right(r.HomeKey)).ToList()) DeleteRecord(batch, TxnWire.Hex(record.TxnId));
        foreach (var held in _locks.Values.SelectMany(l => l).Concat(_spanLocks).Where(l => Right(l.Key)).ToList()) DeleteLock(batch, held);
        // A span lock across the split is cut in two: each half locks its part.
        foreach (var held in _spanLocks.Where(l => !Right(l.Key) && (l.SpanEnd.IsEmpty || l.SpanEnd.Span.SequenceCompareTo(split) > 0)).ToList())
        {
            var rightPart = held.Clone();
            rightPart.Key = ByteString.CopyFrom(split);
            right.Locks.Add(rightPart);
            var leftPart = held.Clone();
            leftPart.SpanEnd = ByteString.CopyFrom(split);
            PutLock(batch, leftPart);
        }
        foreach (var floor in _floors.Values.Where(f => Right(f.Key)).ToList())
        {
            _floors.Remove(TxnWire.Hex(floor.Key));
            _meta.Delete(batch, TxnStateKeys.Floor(_rangeId, TxnWire.Hex(floor.Key)));
        }
        if (writeRight) new RangeTxnTable(rightRangeId, _mvcc, _meta, empty: true).Store(batch, right);
        return right;
    }

    /// <summary>
    /// Forgets aborted and forgotten records (a committed one stays until its coordinator or a recovery has published it and marked it forgotten), refusal markers and read floors older than <see cref="TxnLimits.Retention"/>
    /// (folding the floors into one range-wide floor). Runs at most once per <see cref="TxnLimits.ExpiryInterval"/>
    /// of log time, from any command, so that replicas expire alike.
    /// </summary>
    public void Expire(WriteBatch batch, StorageTimestamp now)
    {
        if (now < _nextExpiry) return;
        _nextExpiry = new StorageTimestamp(now.WallNanos + TxnLimits.ExpiryInterval.Ticks * 100, 0);
        var horizon = new StorageTimestamp(now.WallNanos - TxnLimits.Retention.Ticks * 100, 0);
        foreach (var record in _records.Values.Where(r => (r.Status == TxnStatus.Aborted || r.Forgotten) && TxnWire.ToStorage(r.WrittenAt) < horizon).ToList())
            DeleteRecord(batch, TxnWire.Hex(record.TxnId));
        foreach (var finished in _finished.Values.Where(f => TxnWire.ToStorage(f.At) < horizon).ToList())
        {
            string hex = TxnWire.Hex(finished.TxnId);
            _finished.Remove(hex);
            _meta.Delete(batch, TxnStateKeys.Finished(_rangeId, hex));
        }
        var oldFloors = _floors.Values.Where(f => TxnWire.ToStorage(f.Floor) < horizon).ToList();
        if (oldFloors.Count == 0) return;
        foreach (var floor in oldFloors)
        {
            var value = TxnWire.ToStorage(floor.Floor);
            if (value > _floorLow) _floorLow = value;
            _floors.Remove(TxnWire.Hex(floor.Key));
            _meta.Delete(batch, TxnStateKeys.Floor(_rangeId, TxnWire.Hex(floor.Key)));
        }
        _meta.Put(batch, TxnStateKeys.FloorLow(_rangeId), TxnWire.ToWire(_floorLow).ToByteArray());
    }

    private RangeTxnTable(ulong rangeId, MvccStore mvcc, Kv.Storage.Meta.MetaStore meta, bool empty)
    {
        _ = empty;
        _rangeId = rangeId;
        _mvcc = mvcc;
        _meta = meta;
    }

    private RangeTxnState Capture(Func<ByteString, bool> homeKeys, Func<ByteString, bool> keys)
    {
        var state = new RangeTxnState { ReadFloorLow = TxnWire.ToWire(_floorLow), Closed = TxnWire.ToWire(_closed) };
        state.Records.AddRange(_records.Values.Where(r => homeKeys(r.HomeKey)));
        state.Locks.AddRange(_locks.Values.SelectMany(l => l).Concat(_spanLocks).Where(l => keys(l.Key)));
        state.Finished.AddRange(_finished.Values);
        state.ReadFloors.AddRange(_floors.Values.Where(f => keys(f.Key)));
        return state;
    }

    private void Store(WriteBatch batch, RangeTxnState state)
    {
        foreach (var record in state.Records) PutRecord(batch, record);
        foreach (var held in state.Locks) PutLock(batch, held);
        foreach (var finished in state.Finished)
        {
            RememberFinished(finished);
            _meta.Put(batch, TxnStateKeys.Finished(_rangeId, TxnWire.Hex(finished.TxnId)), finished.ToByteArray());
        }
        foreach (var floor in state.ReadFloors)
        {
            RememberFloor(floor);
            _meta.Put(batch, TxnStateKeys.Floor(_rangeId, TxnWire.Hex(floor.Key)), floor.ToByteArray());
        }
        _floorLow = TxnWire.ToStorage(state.ReadFloorLow);
        _meta.Put(batch, TxnStateKeys.FloorLow(_rangeId), TxnWire.ToWire(_floorLow).ToByteArray());
        _closed = TxnWire.ToStorage(state.Closed);
        _meta.Put(batch, TxnStateKeys.Closed(_rangeId), TxnWire.ToWire(_closed).ToByteArray());
    }
}
