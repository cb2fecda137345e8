using RocksDbSharp;

namespace Kv.Storage.Ranges;

/// <summary>
/// Whole-range operations on the data column family of one <see cref="NodeStore"/>: dropping a range's data
/// with one range tombstone, moving a range's data to another node (iterator streaming or SST files, see
/// docs/storage-ranges.md), and estimating its size. Values are copied as opaque bytes; nothing here knows the
/// MVCC value format. Every method assumes the caller is the only writer of the span while it runs (the
/// range's replica owns its span), and that the store outlives every call and enumeration.
/// </summary>
public sealed partial class RangeDataOps
{
    private readonly int _chunkBytesMax = 1 << 20;
    private readonly long _installStagedBytesMax = 512L << 20;
    private readonly long _sstFileBytesMax = 64L << 20;

    /// <summary>Operations over <paramref name="store"/>'s data column family.</summary>
    public RangeDataOps(NodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
    }

    /// <summary>The store whose data column family is read and written.</summary>
    public NodeStore Store { get; }

    /// <summary>
    /// Largest sum of key and value bytes in one <see cref="RangeSnapshotChunk"/> (default 1 MiB). A single
    /// pair larger than this travels alone in its chunk.
    /// </summary>
    public int ChunkBytesMax
    {
        get => _chunkBytesMax;
        init => _chunkBytesMax = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be positive.");
    }

    /// <summary>
    /// Largest range (key and value bytes) that <see cref="InstallAsync"/> will stage in memory before its one
    /// atomic write (default 512 MiB). Larger ranges must use the SST path.
    /// </summary>
    public long InstallStagedBytesMax
    {
        get => _installStagedBytesMax;
        init => _installStagedBytesMax = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be positive.");
    }

    /// <summary>Key and value bytes after which <see cref="ExportSstAsync"/> starts a new SST file (default 64 MiB).</summary>
    public long SstFileBytesMax
    {
        get => _sstFileBytesMax;
        init => _sstFileBytesMax = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be positive.");
    }

    /// <summary>
    /// Adds to <paramref name="batch"/> one range tombstone (<c>WriteBatch.DeleteRange</c>) over the span's
    /// encoded keys, so the span's data disappears atomically when the batch is written, at the cost of one
    /// entry however many keys it holds. For an unbounded span the tombstone ends just after the last key
    /// present when this is called (nothing is added if the span is empty); see the class remarks on writers.
    /// Operations added to the batch after this one are not covered by it.
    /// </summary>
    public void DeleteRangeData(WriteBatch batch, RangeSpan span)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var encoded = new EncodedSpan(span);
        byte[]? upper = encoded.ResolveUpper(Store);
        if (upper is null) return;
        batch.DeleteRange(encoded.Lower, (ulong)encoded.Lower.Length, upper, (ulong)upper.Length, Store.Data);
    }
}
