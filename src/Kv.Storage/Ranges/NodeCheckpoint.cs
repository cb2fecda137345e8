namespace Kv.Storage.Ranges;

/// <summary>
/// Copy-on-write copies of a whole node database (every column family) with RocksDB checkpoints: SST files are
/// hard-linked, so a checkpoint takes milliseconds and almost no space, and stays unchanged while the source
/// keeps writing (RocksDB never modifies an SST file; it only writes new ones and deletes old ones).
/// </summary>
public static class NodeCheckpoint
{
    /// <summary>
    /// Flushes every column family and saves a checkpoint of <paramref name="store"/> into
    /// <paramref name="targetDirectory"/>, which must not exist and should be on the same file system (else
    /// RocksDB copies the files instead of linking them). Flushing first puts all data in SST files; RocksDB still
    /// copies the live WAL file into the checkpoint (from the database's WAL directory when that is separate), so the
    /// checkpoint opens on its own. Runs on the thread pool: flush and checkpoint are blocking native calls.
    /// </summary>
    public static Task<CheckpointInfo> CheckpointAsync(this NodeStore store, string targetDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);
        if (Directory.Exists(targetDirectory) || File.Exists(targetDirectory))
            throw new IOException($"'{targetDirectory}' already exists; a checkpoint needs a new directory.");
        return Task.Run(() =>
        {
            store.FlushAll();
            using var checkpoint = store.Db.Checkpoint();
            // log_size_for_flush = 0 asks RocksDB to flush as well; after FlushAll that finds nothing to do.
            checkpoint.Save(targetDirectory, 0);
            var files = new DirectoryInfo(targetDirectory).GetFiles();
            return new CheckpointInfo(targetDirectory, files.Length, files.Sum(f => f.Length));
        }, cancellationToken);
    }

    /// <summary>
    /// Opens a checkpoint as a <see cref="NodeStore"/> of its own (read-write; writes to it do not reach the
    /// source). Throws if <paramref name="directory"/> holds no database, rather than creating an empty one.
    /// </summary>
    public static NodeStore OpenCheckpoint(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!File.Exists(Path.Combine(directory, "CURRENT")))
            throw new DirectoryNotFoundException($"'{directory}' holds no RocksDB checkpoint (no CURRENT file).");
        return NodeStore.Open(directory);
    }
}
