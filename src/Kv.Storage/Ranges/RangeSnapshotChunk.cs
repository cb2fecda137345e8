using System.Buffers.Binary;
using System.IO.Hashing;

namespace Kv.Storage.Ranges;

/// <summary>
/// One piece of a range snapshot sent by iterator streaming: consecutive raw data-CF key/value pairs (opaque
/// bytes, in key order), the chunk's position in the stream, and a CRC32C over all of it. The index and the
/// last-chunk flag are inside the checksum, so a receiver detects a lost, repeated, reordered or truncated
/// stream as well as flipped bits. Every stream ends with exactly one chunk whose <see cref="IsLast"/> is true
/// (an empty range is a single empty last chunk).
/// </summary>
public sealed class RangeSnapshotChunk
{
    /// <summary>Wraps received parts as they are; check <see cref="HasValidChecksum"/> before trusting them.</summary>
    public RangeSnapshotChunk(int index, bool isLast, IReadOnlyList<KeyValuePair<byte[], byte[]>> pairs, uint crc32c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentNullException.ThrowIfNull(pairs);
        Index = index;
        IsLast = isLast;
        Pairs = pairs;
        Crc32c = crc32c;
    }

    /// <summary>Position in the stream, from 0.</summary>
    public int Index { get; }

    /// <summary>True for the final chunk of the stream.</summary>
    public bool IsLast { get; }

    /// <summary>Raw data-CF keys and values, ascending by key.</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Pairs { get; }

    /// <summary>CRC32C of <see cref="Index"/>, <see cref="IsLast"/> and <see cref="Pairs"/> (see <see cref="ComputeCrc32c"/>).</summary>
    public uint Crc32c { get; }

    /// <summary>Sum of key and value lengths.</summary>
    public long DataBytes
    {
        get
        {
            long total = 0;
            foreach (var pair in Pairs) total += pair.Key.Length + pair.Value.Length;
            return total;
        }
    }

    /// <summary>True when the stored checksum matches the contents.</summary>
    public bool HasValidChecksum => ComputeCrc32c(Index, IsLast, Pairs) == Crc32c;

    /// <summary>Builds a chunk with its checksum.</summary>
    public static RangeSnapshotChunk Create(int index, bool isLast, IReadOnlyList<KeyValuePair<byte[], byte[]>> pairs) =>
        new(index, isLast, pairs, ComputeCrc32c(index, isLast, pairs));

    /// <summary>
    /// CRC32C (Castagnoli) over: index (int32 LE), last flag (1 byte), pair count (int32 LE), then per pair the
    /// key length (int32 LE), key, value length (int32 LE), value. Lengths are included so that moving bytes
    /// between a key and its value changes the checksum.
    /// </summary>
    public static uint ComputeCrc32c(int index, bool isLast, IReadOnlyList<KeyValuePair<byte[], byte[]>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        Span<byte> header = stackalloc byte[9];
        BinaryPrimitives.WriteInt32LittleEndian(header, index);
        header[4] = isLast ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(header[5..], pairs.Count);
        crc.Append(header);
        Span<byte> length = stackalloc byte[4];
        foreach (var pair in pairs)
        {
            BinaryPrimitives.WriteInt32LittleEndian(length, pair.Key.Length);
            crc.Append(length);
            crc.Append(pair.Key);
            BinaryPrimitives.WriteInt32LittleEndian(length, pair.Value.Length);
            crc.Append(length);
            crc.Append(pair.Value);
        }
        return crc.GetCurrentHashAsUInt32();
    }
}
