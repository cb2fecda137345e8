using RocksDbSharp;

namespace Kv.Storage.GroupCommit;

/// <summary>
/// The two steps a <see cref="GroupCommitter"/> needs from the database, kept apart so that the next batch can be
/// written while the previous one is being synced. Tests substitute slow or failing logs.
/// </summary>
internal interface ICommitLog
{
    /// <summary>Writes <paramref name="batch"/> without waiting for the disk: visible afterwards, not yet durable.</summary>
    ValueTask WriteAsync(WriteBatch batch);

    /// <summary>Makes durable everything whose <see cref="WriteAsync"/> completed before this call started.</summary>
    ValueTask SyncAsync();
}

/// <summary>The RocksDB log of a <see cref="NodeStore"/>: unsynced writes, then a WAL fsync.</summary>
internal sealed class NodeStoreCommitLog(NodeStore store) : ICommitLog
{
    public ValueTask WriteAsync(WriteBatch batch)
    {
        store.Db.Write(batch, store.UnsyncedWrite);
        return ValueTask.CompletedTask;
    }

    public ValueTask SyncAsync()
    {
        store.SyncWal();
        return ValueTask.CompletedTask;
    }
}
