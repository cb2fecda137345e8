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

    private NodeStore(RocksDb db, string path)
    {
        Db = db;
        Path = path;
        Paxos = db.GetColumnFamily(ColumnFamilyNames.Paxos);
        Data = db.GetColumnFamily(ColumnFamilyNames.Data);
        Meta = db.GetColumnFamily(ColumnFamilyNames.Meta);
        SyncWrite = new WriteOptions().SetSync(true);
        UnsyncedWrite = new WriteOptions().SetSync(false);
    }

    /// <summary>The directory of the database.</summary>
    public string Path { get; }

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
    /// Opens (creating if missing) the database at <paramref name="path"/>. Corruption detected while opening
    /// is reported as <see cref="StorageCorruptionException"/> naming the path.
    /// </summary>
    public static NodeStore Open(string path)
    {
        Directory.CreateDirectory(path);
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
        // One block cache for every family, instead of one default cache each.
        var cache = Cache.CreateLru(BlockCacheBytes);
        var families = new ColumnFamilies(NewFamilyOptions(cache));
        foreach (string name in ColumnFamilyNames.All) families.Add(name, NewFamilyOptions(cache));
        try
        {
            return new NodeStore(RocksDb.Open(options, path, families), path);
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
