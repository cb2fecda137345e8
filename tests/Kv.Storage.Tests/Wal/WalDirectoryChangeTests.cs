using static Kv.Storage.Tests.Wal.TempWalDirectories;

namespace Kv.Storage.Tests.Wal;

/// <summary>
/// A node whose WAL directory setting changes between two starts. RocksDB reads the WAL only where it is told to, so
/// each change must carry the synced writes that only the WAL holds; and a WAL directory that lost the WAL (a device
/// not mounted) must be refused rather than opened empty.
/// </summary>
public sealed class WalDirectoryChangeTests
{
    [Fact]
    public void FromTheDataDirectoryToASeparateOne_KeepsUnflushedWrites()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data)) PutSynced(store, "k", "in the data directory's WAL");
        Assert.NotEmpty(WrittenLogFiles(dirs.Data));

        using (var store = NodeStore.Open(dirs.Data, dirs.Wal))
        {
            Assert.Equal("in the data directory's WAL", Get(store, "k"));
            PutSynced(store, "k", "in the WAL directory");
        }

        Assert.Empty(WrittenLogFiles(dirs.Data));
        Assert.NotEmpty(WrittenLogFiles(dirs.Wal));
        using var reopened = NodeStore.Open(dirs.Data, dirs.Wal);
        Assert.Equal("in the WAL directory", Get(reopened, "k"));
    }

    [Fact]
    public void FromASeparateDirectoryBackToTheDataDirectory_KeepsUnflushedWrites()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal)) PutSynced(store, "k", "in the WAL directory");

        using (var store = NodeStore.Open(dirs.Data))
        {
            Assert.Null(store.WalDirectory);
            Assert.Equal("in the WAL directory", Get(store, "k"));
            PutSynced(store, "k", "in the data directory's WAL");
        }

        Assert.False(File.Exists(Path.Combine(dirs.Data, "KV-WAL-DIR")));
        using var reopened = NodeStore.Open(dirs.Data);
        Assert.Equal("in the data directory's WAL", Get(reopened, "k"));
    }

    [Fact]
    public void FromOneSeparateDirectoryToAnother_KeepsUnflushedWrites()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal)) PutSynced(store, "k", "in the first WAL directory");

        using var moved = NodeStore.Open(dirs.Data, dirs.Other("wal-2"));
        Assert.Equal("in the first WAL directory", Get(moved, "k"));
    }

    [Fact]
    public void WalDirectoryMissingItsWal_IsRefused_WithTheSettingOrWithout()
    {
        using var dirs = new TempWalDirectories();
        using (var store = NodeStore.Open(dirs.Data, dirs.Wal)) PutSynced(store, "k", "only in the WAL");
        // What a mount point looks like while its device is not mounted: there, and empty.
        Directory.Move(dirs.Wal, dirs.Other("unmounted"));
        Directory.CreateDirectory(dirs.Wal);

        var sameSetting = Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Data, dirs.Wal));
        var settingDropped = Assert.Throws<WalDirectoryException>(() => NodeStore.Open(dirs.Data));

        Assert.Contains("is its device mounted?", sameSetting.Message);
        Assert.Contains($"'{Path.GetFullPath(dirs.Wal)}'", settingDropped.Message);
        Directory.Delete(dirs.Wal);
        Directory.Move(dirs.Other("unmounted"), dirs.Wal);
        using var mounted = NodeStore.Open(dirs.Data, dirs.Wal);
        Assert.Equal("only in the WAL", Get(mounted, "k"));
    }
}
