using Kv.Storage.Wal;
using RocksDbSharp;

namespace Kv.Storage;

/// <summary>
/// One node's RocksDB database: opens it with the column families of <see cref="ColumnFamilyNames"/>, block
/// checksums verified on every read and paranoid checks at open, and owns the handles. Everything else in
/// Kv.Storage works through it. Dispose it last: iterators, snapshots and batches must be disposed first.
/// </summary>
public sealed class NodeStore : IDisposable
{
    private readonly ReadOptions _verifiedReads = new ReadOptions().SetVerifyChecksums(true);

    private NodeStore(RocksDb db, string path, string? walDirectory)
    {
        Db = db;
        Path = path;
        WalDirectory = walDirectory;
        Paxos = db.GetColumnFamily(ColumnFamilyNames.Paxos);
        Data = db.GetColumnFamily(ColumnFamilyNames.Data);
        Meta = db.GetColumnFamily(ColumnFamilyNames.Meta);
        SyncWrite = new WriteOptions().SetSync(true);
        UnsyncedWrite = new WriteOptions().SetSync(false);
    }

    /// <summary>The directory of the database.</summary>
    public string Path { get; }

    /// <summary>The separate directory of the write-ahead log (a full path), or null when it is in <see cref="Path"/>.</summary>
    public string? WalDirectory { get; }

    /// <summary>The open database.</summary>
    public RocksDb Db { get; }

    /// <summary>Paxos state of all groups.</summary>
    public ColumnFamilyHandle Paxos { get; }

    /// <summary>MVCC user data of all ranges.</summary>
    public ColumnFamilyHandle Data { get; }

    /// <summary>Range and node metadata.</summary>
    public ColumnFamilyHandle Meta { get; }

    /// <summary>Write options that fsync the WAL before returning.</summary>
    public WriteOptions SyncWrite { get; }

    /// <summary>
    /// Write options that return once the write is in the WAL file and the memtables, before any fsync: durable only
    /// with a later synced write (the WAL keeps writes in order, so a crash keeps a prefix of them).
    /// </summary>
    public WriteOptions UnsyncedWrite { get; }

    /// <summary>Read options that verify block checksums.</summary>
    public ReadOptions VerifiedReads => _verifiedReads;

    /// <summary>
    /// Opens (creating if missing) the database at <paramref name="path"/>, with its write-ahead log in
    /// <paramref name="walDirectory"/> (created if missing) or, when that is null or the same directory, in
    /// <paramref name="path"/>. A WAL on a device of its own keeps its syncs clear of flushes and compactions. If the
    /// database kept its WAL elsewhere last time, it is opened there once and flushed first, so that no write is lost.
    /// Corruption detected while opening is reported as <see cref="StorageCorruptionException"/> naming the path.
    /// </summary>
    /// <exception cref="WalDirectoryException">
    /// The WAL directory holds another database's WAL, or this database's WAL is missing from where it was kept.
    /// </exception>
    public static NodeStore Open(string path, string? walDirectory = null)
    {
        Directory.CreateDirectory(path);
        var wal = WalPlacement.Check(path, walDirectory);
        if (wal.MoveFrom is { } from)
        {
            // RocksDB reads the WAL only from where it is told to: the writes in the old place must reach SST files first.
            using var old = OpenAt(path, from == wal.DataDirectory ? null : from);
            old.FlushAll();
        }
        wal.ClaimBeforeOpen();
        var store = OpenAt(path, wal.IsSeparate ? wal.Directory : null);
        try
        {
            wal.ClaimAfterOpen();
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    /// <summary>
    /// For a node that starts a new database in a data directory it emptied on purpose (a restore): deletes the WAL
    /// files the previous database left in <paramref name="walDirectory"/>, which <see cref="Open"/> would otherwise
    /// refuse. Does nothing if <paramref name="path"/> holds a database or the WAL directory is the data directory.
    /// </summary>
    /// <returns>How many WAL files were deleted.</returns>
    public static int DiscardWalOfPreviousDatabase(string path, string walDirectory) => WalPlacement.DiscardForNewDatabase(path, walDirectory);

    private static NodeStore OpenAt(string path, string? walDirectory)
    {
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetParanoidChecks(true)
            // Memtables of all column families together: RocksDB's default (64 MiB each, per family) would let a
            // busy node's memtables alone approach its memory budget (300 MB). Flushing sooner costs little: an insert
            // took the same ≈ 4.5 µs per put with 4, 16 or 32 MiB memtables (a standalone replay of a node's apply
            // batches), and 32 MiB in all instead of 64 took about 20–60 MB off each node's peak RSS at 64 concurrent puts
            // (bench/results/bundling-and-memory.md).
            .SetDbWriteBufferSize(MemtableBytesMax);
        if (walDirectory is not null) options.SetWalDir(walDirectory);
        // One block cache for every family, instead of one default cache each.
        var cache = Cache.CreateLru(BlockCacheBytes);
        var families = new ColumnFamilies(NewFamilyOptions(cache));
        foreach (string name in ColumnFamilyNames.All) families.Add(name, NewFamilyOptions(cache));
        try
        {
            return new NodeStore(RocksDb.Open(options, path, families), path, walDirectory);
        }
        catch (RocksDbException e) when (e.Message.Contains("Corruption", StringComparison.OrdinalIgnoreCase))
        {
            throw new StorageCorruptionException($"The database at '{path}' is corrupt: {e.Message}", e);
        }
    }

    /// <summary>The memtables of all column families together, in bytes.</summary>
    public const ulong MemtableBytesMax = 32UL << 20;

    /// <summary>The block cache shared by all column families, in bytes.</summary>
    public const ulong BlockCacheBytes = 64UL << 20;

    private static ColumnFamilyOptions NewFamilyOptions(Cache cache)
    {
        // Block-based tables carry a CRC32C checksum per block by default; reads verify it (VerifiedReads).
        var table = new BlockBasedTableOptions().SetBlockSize(16 * 1024).SetBlockCache(cache);
        return new ColumnFamilyOptions().SetBlockBasedTableFactory(table).SetWriteBufferSize(16UL << 20);
    }

    /// <summary>Flushes every column family's memtable to SST files.</summary>
    public void FlushAll()
    {
        var flush = new FlushOptions().SetWaitForFlush(true);
        foreach (var cf in new[] { Paxos, Data, Meta })
            Native.Instance.rocksdb_flush_cf(Db.Handle, flush.Handle, cf.Handle);
        // The native calls get only the handle: without this, the options' finalizer could free them mid-flush.
        GC.KeepAlive(flush);
    }

    /// <inheritdoc />
    public void Dispose() => Db.Dispose();
}
