using Utf8 = System.Text.Encoding;

namespace Kv.Storage.Tests.Wal;

/// <summary>
/// A data directory and WAL directories under one unique temporary root, deleted on dispose, with the few reads and
/// writes the WAL directory tests need: synced writes left unflushed (so that only the WAL holds them) and the WAL
/// files of a directory.
/// </summary>
internal sealed class TempWalDirectories : IDisposable
{
    public TempWalDirectories()
    {
        Root = Path.Combine(Path.GetTempPath(), "kv-storage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The data directory.</summary>
    public string Data => Path.Combine(Root, "data");

    /// <summary>The WAL directory.</summary>
    public string Wal => Path.Combine(Root, "wal");

    /// <summary>Another directory under the root.</summary>
    public string Other(string name) => Path.Combine(Root, name);

    /// <summary>A synced put into the meta column family; nothing flushes it, so until a flush only the WAL holds it.</summary>
    public static void PutSynced(NodeStore store, string key, string value) =>
        store.Db.Put(Utf8.UTF8.GetBytes(key), Utf8.UTF8.GetBytes(value), store.Meta, store.SyncWrite);

    public static string? Get(NodeStore store, string key) =>
        store.Db.Get(Utf8.UTF8.GetBytes(key), store.Meta) is { } value ? Utf8.UTF8.GetString(value) : null;

    /// <summary>The WAL files (*.log) directly in <paramref name="directory"/>.</summary>
    public static FileInfo[] LogFiles(string directory) =>
        Directory.Exists(directory) ? new DirectoryInfo(directory).GetFiles("*.log", new EnumerationOptions { MatchCasing = MatchCasing.CaseSensitive }) : [];

    /// <summary>The WAL files in <paramref name="directory"/> that hold anything.</summary>
    public static FileInfo[] WrittenLogFiles(string directory) => [.. LogFiles(directory).Where(f => f.Length > 0)];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
