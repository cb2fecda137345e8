using RocksDbSharp;
using static Kv.Storage.Tests.Wal.TempWalDirectories;

namespace Kv.Storage.Tests.Wal;

/// <summary>A node database with its write-ahead log in a directory of its own, and the guard against another database's WAL.</summary>
public sealed class WalDirectoryTests
{
    [Fact]
    public void SeparateWal_SyncedWriteNotFlushed_IsReplayedFromTheWalDirectoryAfterReopen()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            Assert.Equal(Path.GetFullPath(dirs.Wal), store.WalDirectory);
            PutSynced(store, "promise", "ballot 7");
        }

        // Disposed without a flush: the write exists only in the WAL, and the WAL only in the WAL directory.
        Assert.NotEmpty(WrittenLogFiles(dirs.Wal));
        Assert.Empty(LogFiles(dirs.Data));
        using (var reopened = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            Assert.Equal("ballot 7", Get(reopened, "promise"));
        }
    }

    [Fact]
    public void DataDirectoryReplacedByAnEmptyOne_WhileTheWalDirectoryKeepsWalFiles_IsRefusedNamingBothAndWhatToDo()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal)) PutSynced(store, "old", "value");
        Directory.Delete(dirs.Data, recursive: true);

        var refused = Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Data, dirs.Wal));

        Assert.Contains($"'{Path.GetFullPath(dirs.Wal)}'", refused.Message);
        Assert.Contains($"'{Path.GetFullPath(dirs.Data)}'", refused.Message);
        Assert.Contains("holds no database yet", refused.Message);
        Assert.Contains("delete the *.log files", refused.Message);
        Assert.NotEmpty(WrittenLogFiles(dirs.Wal)); // nothing was changed

        // What the message says to do, if the replacement was deliberate: the new database starts without the old writes.
        foreach (var log in LogFiles(dirs.Wal)) log.Delete();
        using var fresh = NodeStore.Open(dirs.Data, dirs.Wal);
        Assert.Null(Get(fresh, "old"));
    }

    [Fact]
    public void DataDirectoryReplacedByAnotherDatabase_RocksDbReplaysTheForeignWal_OpenRefusesIt()
    {
        using var dirs = new TempWalDirectories();
        using (var first = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            // Flushes move the first database's WAL numbers past those of the second one's, so that RocksDB takes its
            // WAL for the second database's newest one.
            for (int i = 0; i < 5; i++)
            {
                PutSynced(first, $"flushed-{i}", "x");
                first.FlushAll();
            }
            PutSynced(first, "foreign", "from the first database");
        }
        using (var second = NodeStore.Open(dirs.Other("second-data"), dirs.Other("second-wal")))
        {
            PutSynced(second, "own", "from the second database");
            second.FlushAll();
        }
        Directory.Delete(dirs.Data, recursive: true);
        Directory.Move(dirs.Other("second-data"), dirs.Data);

        var refused = Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Data, dirs.Wal));
        Assert.Contains("KV-WAL-OWNER names database", refused.Message);

        // Without the guard: RocksDB opens the second database and replays the first one's WAL into it.
        using var unguarded = OpenWithoutGuard(dirs.Data, dirs.Wal);
        string? Read(string key) => unguarded.Get(key, unguarded.GetColumnFamily(ColumnFamilyNames.Meta));
        Assert.Equal("from the first database", Read("foreign"));
        Assert.Equal("from the second database", Read("own"));
    }

    [Fact]
    public void SecondDatabase_InAWalDirectoryInUse_IsRefusedBeforeEitherWrites()
    {
        using var dirs = new TempWalDirectories();
        using (var existing = NodeStore.Open(dirs.Other("existing"))) PutSynced(existing, "k", "v");
        using var first = NodeStore.Open(dirs.Data, dirs.Wal);

        // The first database's WAL file is still empty; RocksDB keeps no lock in the WAL directory.
        Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Other("new"), dirs.Wal));
        Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Other("existing"), dirs.Wal));
    }

    [Fact]
    public void NormalReopens_AndAnEmptyWalDirectory_AreNotRefused()
    {
        using var dirs = new TempWalDirectories();
        Directory.CreateDirectory(dirs.Wal); // empty, as on a new device
        for (int round = 0; round < 3; round++)
        {
            using var store = NodeStore.Open(dirs.Data, dirs.Wal);
            Assert.Equal(round == 0 ? null : $"round {round - 1}", Get(store, "last"));
            PutSynced(store, "last", $"round {round}");
            if (round == 1) store.FlushAll();
        }
    }

    [Fact]
    public void FirstOpenCrashedBeforeMarkingTheWalDirectory_IsNotRefused()
    {
        using var dirs = new TempWalDirectories();
        using (NodeStore.Open(dirs.Data, dirs.Wal)) { }
        // The state such a crash leaves: the database created, RocksDB's first WAL file empty, no marker.
        File.Delete(Path.Combine(dirs.Wal, "KV-WAL-OWNER"));
        Assert.NotEmpty(LogFiles(dirs.Wal));
        Assert.Empty(WrittenLogFiles(dirs.Wal));

        using var store = NodeStore.Open(dirs.Data, dirs.Wal);
        Assert.True(File.Exists(Path.Combine(dirs.Wal, "KV-WAL-OWNER")));
    }

    [Fact]
    public void WalDirectoryThatIsTheDataDirectory_IsTheDefault()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Data + Path.DirectorySeparatorChar))
        {
            Assert.Null(store.WalDirectory);
            PutSynced(store, "k", "v");
        }

        Assert.NotEmpty(WrittenLogFiles(dirs.Data));
        Assert.False(File.Exists(Path.Combine(dirs.Data, "KV-WAL-DIR")));
        Assert.False(File.Exists(Path.Combine(dirs.Data, "KV-WAL-OWNER")));
        using var reopened = NodeStore.Open(dirs.Data);
        Assert.Equal("v", Get(reopened, "k"));
    }

    [Fact]
    public void DiscardWalOfPreviousDatabase_ClearsTheWalDirectoryOnlyForAnEmptyDataDirectory()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal)) PutSynced(store, "k", "v");

        Assert.Equal(0, NodeStore.DiscardWalOfPreviousDatabase(dirs.Data, dirs.Wal));
        Assert.NotEmpty(WrittenLogFiles(dirs.Wal));

        Directory.Delete(dirs.Data, recursive: true);
        Assert.True(NodeStore.DiscardWalOfPreviousDatabase(dirs.Data, dirs.Wal) > 0);
        Assert.Empty(LogFiles(dirs.Wal));
        Assert.False(File.Exists(Path.Combine(dirs.Wal, "KV-WAL-OWNER")));
        using var fresh = NodeStore.Open(dirs.Data, dirs.Wal);
        Assert.Null(Get(fresh, "k"));
    }

    /// <summary>The database opened by RocksDB alone, with the same column families and WAL directory but none of NodeStore's checks.</summary>
    private static RocksDb OpenWithoutGuard(string data, string wal)
    {
        var families = new ColumnFamilies();
        foreach (string name in ColumnFamilyNames.All) families.Add(name, new ColumnFamilyOptions());
        return RocksDb.Open(new DbOptions().SetWalDir(wal), data, families);
    }
}
