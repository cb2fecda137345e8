using Google.Protobuf;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Txn;
using Kv.Txn.Coordination;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Txn;

/// <summary>
/// Two-phase-commit decisions of the transactions this node coordinates, in its own meta column family, each in its
/// own synced write: the classic coordinator log, on one disk.
/// </summary>
internal sealed class TwoPhaseDecisionLog(NodeStore store) : ITwoPhaseDecisionLog
{
    private readonly MetaStore _meta = new(store);

    public Task RecordAsync(ByteString txnId, bool commit, StorageTimestamp commitTs, CancellationToken cancellationToken)
    {
        var value = new byte[13];
        value[0] = commit ? (byte)1 : (byte)0;
        BitConverter.TryWriteBytes(value.AsSpan(1), commitTs.WallNanos);
        BitConverter.TryWriteBytes(value.AsSpan(9), commitTs.Logical);
        string key = Key(txnId);
        // A synced write costs one fsync; run it off the caller's thread like every other disk wait.
        return Task.Run(() =>
        {
            using var batch = new WriteBatch();
            _meta.Put(batch, key, value);
            store.Db.Write(batch, store.SyncWrite);
        }, cancellationToken);
    }

    public (bool Commit, StorageTimestamp CommitTs)? Find(ByteString txnId)
    {
        if (!_meta.TryGet(Key(txnId), out var value)) return null;
        return (value[0] == 1, new StorageTimestamp(BitConverter.ToInt64(value, 1), BitConverter.ToInt32(value, 9)));
    }

    private static string Key(ByteString txnId) => $"two-phase/decision/{TxnWire.Hex(txnId)}";
}
