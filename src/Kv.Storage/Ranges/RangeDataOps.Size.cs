using System.Runtime.InteropServices;
using RocksDbSharp;

namespace Kv.Storage.Ranges;

/// <summary>Size estimates for split decisions.</summary>
public sealed partial class RangeDataOps
{
    // rocksdb_approximate_sizes_cf_with_flags: include_memtables = 1 << 0, include_files = 1 << 1.
    private const byte IncludeMemtablesAndFiles = 0b11;

    /// <summary>
    /// RocksDB's estimate of the bytes the span occupies in the data column family
    /// (<c>rocksdb_approximate_sizes_cf_with_flags</c>, SST files and memtables; RocksDbSharp has no managed
    /// wrapper, so this calls the C API). It reads index blocks, not data: fast, but coarse for small spans,
    /// and it counts compressed, not-yet-compacted bytes (deleted or overwritten data until compaction).
    /// </summary>
    public long ApproximateSizeBytes(RangeSpan span)
    {
        var encoded = new EncodedSpan(span);
        byte[]? upper = encoded.ResolveUpper(Store);
        if (upper is null) return 0;
        return ApproximateSizeBytes(Store.Db, Store.Data, encoded.Lower, upper);
    }

    private static long ApproximateSizeBytes(RocksDb db, ColumnFamilyHandle family, byte[] lower, byte[] upper)
    {
        // The C API takes arrays of key pointers and lengths; one range means one-element arrays.
        IntPtr block = Marshal.AllocHGlobal(lower.Length + upper.Length + 5 * IntPtr.Size);
        try
        {
            IntPtr lowerKey = block;
            IntPtr upperKey = block + lower.Length;
            IntPtr lowerKeys = upperKey + upper.Length;
            IntPtr lowerLengths = lowerKeys + IntPtr.Size;
            IntPtr upperKeys = lowerLengths + IntPtr.Size;
            IntPtr upperLengths = upperKeys + IntPtr.Size;
            IntPtr sizes = upperLengths + IntPtr.Size;
            Marshal.Copy(lower, 0, lowerKey, lower.Length);
            Marshal.Copy(upper, 0, upperKey, upper.Length);
            Marshal.WriteIntPtr(lowerKeys, lowerKey);
            Marshal.WriteIntPtr(lowerLengths, lower.Length);
            Marshal.WriteIntPtr(upperKeys, upperKey);
            Marshal.WriteIntPtr(upperLengths, upper.Length);
            Marshal.WriteInt64(sizes, 0);
            Native.Instance.rocksdb_approximate_sizes_cf_with_flags(
                db.Handle, family.Handle, 1, lowerKeys, lowerLengths, upperKeys, upperLengths, IncludeMemtablesAndFiles, sizes);
            return Marshal.ReadInt64(sizes);
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}
