using Kv.Storage.Ranges;
using RocksDbSharp;
using static Kv.Storage.Tests.Ranges.TestKeys;

namespace Kv.Storage.Tests.Ranges;

public sealed class CheckpointTests
{
    [Fact]
    public async Task Checkpoint_HoldsExactlyTheDataAtCheckpointTime_WhileSourceKeepsChanging()
    {
        using var source = new TempNodeStore();
        source.PutVersions("before", AroundBToC);
        source.Store.Db.Put(K("node/id"), K("7"), source.Store.Meta);
        source.Store.Db.Put(K("group-1"), K("promise"), source.Store.Paxos);
        var dataAtCheckpoint = source.DumpData();

        var info = await source.Store.CheckpointAsync(source.NewPath("checkpoint"));

        // The source moves on: overwrites, new keys, a dropped span, other column families, a compaction.
        source.PutVersions("after", AroundBToC);
        using (var batch = new WriteBatch())
        {
            source.Ops.DeleteRangeData(batch, BToC);
            batch.Put(K("node/id"), K("8"), source.Store.Meta);
            batch.Delete(K("group-1"), source.Store.Paxos);
            source.Store.Db.Write(batch, source.Store.SyncWrite);
        }
        source.Store.FlushAll();
        source.Store.Db.CompactRange((byte[]?)null, null, source.Store.Data);
        var sourceNow = source.DumpData();

        Assert.True(info.FileCount > 0 && info.SizeBytes > 0);
        using (var checkpoint = NodeCheckpoint.OpenCheckpoint(info.Directory))
        {
            var view = new TempView(checkpoint);
            Assert.Equal(dataAtCheckpoint, view.DumpData());
            Assert.Equal(K("7"), checkpoint.Db.Get(K("node/id"), checkpoint.Meta));
            Assert.Equal(K("promise"), checkpoint.Db.Get(K("group-1"), checkpoint.Paxos));
            // Writes to the checkpoint stay there.
            checkpoint.Db.Put(K("only-in-checkpoint"), K("x"), checkpoint.Data);
        }
        Assert.Equal(sourceNow, source.DumpData());
    }

    [Fact]
    public async Task Checkpoint_ExistingTarget_IsRefused()
    {
        using var source = new TempNodeStore();
        string target = source.NewPath("taken");
        Directory.CreateDirectory(target);
        await Assert.ThrowsAsync<IOException>(() => source.Store.CheckpointAsync(target));
    }

    [Fact]
    public void OpenCheckpoint_DirectoryWithoutDatabase_Throws()
    {
        using var source = new TempNodeStore();
        string empty = source.NewPath("empty");
        Directory.CreateDirectory(empty);
        Assert.Throws<DirectoryNotFoundException>(() => NodeCheckpoint.OpenCheckpoint(empty));
    }

    /// <summary>Reads the data family of a store that is not a <see cref="TempNodeStore"/>.</summary>
    private sealed class TempView(NodeStore store)
    {
        public List<string> DumpData()
        {
            var result = new List<string>();
            using var iterator = store.Db.NewIterator(store.Data);
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
                result.Add($"{Convert.ToHexString(iterator.Key())}={Convert.ToHexString(iterator.Value())}");
            return result;
        }
    }
}
