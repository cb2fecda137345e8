using Kv.Storage.Ranges;
using static Kv.Storage.Tests.Wal.TempWalDirectories;

namespace Kv.Storage.Tests.Wal;

/// <summary>
/// Checkpoints (snapshots are made of them) of a database whose WAL is in a separate directory: RocksDB copies the live
/// WAL files from there into the checkpoint, which then opens on its own like any other, WAL inside.
/// </summary>
public sealed class WalDirectoryCheckpointTests
{
    [Fact]
    public async Task Checkpoint_OfADatabaseWithASeparateWal_OpensWithTheLatestWrite()
    {
        using var dirs = new TempWalDirectories();
        string checkpoint = dirs.Other("checkpoint");
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            PutSynced(store, "k", "latest");
            await store.CheckpointAsync(checkpoint);
            PutSynced(store, "k", "after the checkpoint");
        }

        Assert.False(File.Exists(Path.Combine(checkpoint, "KV-WAL-DIR")));
        using var opened = NodeCheckpoint.OpenCheckpoint(checkpoint);
        Assert.Null(opened.WalDirectory);
        Assert.Equal("latest", Get(opened, "k"));
    }

    [Fact]
    public void Checkpoint_WithoutAFlush_CarriesTheSyncedWriteInAWalCopiedFromTheWalDirectory()
    {
        using var dirs = new TempWalDirectories();
        string checkpoint = dirs.Other("checkpoint");
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            PutSynced(store, "k", "only in the WAL");
            using var rocksCheckpoint = store.Db.Checkpoint();
            // log_size_for_flush at its maximum: no flush, so the write reaches the checkpoint only through the WAL.
            rocksCheckpoint.Save(checkpoint, ulong.MaxValue);
        }

        Assert.NotEmpty(WrittenLogFiles(checkpoint));
        using var opened = NodeCheckpoint.OpenCheckpoint(checkpoint);
        Assert.Equal("only in the WAL", Get(opened, "k"));
    }
}
