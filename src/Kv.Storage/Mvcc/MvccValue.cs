using System.Buffers.Binary;
using System.IO.Hashing;
using Kv.Storage.Encoding;

namespace Kv.Storage.Mvcc;

/// <summary>
/// The byte layout of values in the data column family (docs/storage-mvcc.md). Values are built and checked as
/// a "record": the encoded key immediately followed by the value, because the checksum covers both — a value
/// copied under another key fails its check as surely as a flipped bit does.
/// <code>
/// committed: kind(1) ‖ payload ‖ crc32c(4, little-endian)
/// staged:    txn id(16) ‖ provisional wall nanos(8, big-endian) ‖ provisional logical(4, big-endian) ‖ kind(1) ‖ payload ‖ crc32c(4)
/// kind:      0x01 value, 0x02 tombstone (no payload)
/// crc32c:    over encoded key ‖ value without its last 4 bytes
/// </code>
/// </summary>
internal static class MvccValue
{
    /// <summary>Kind byte of a version that holds a value.</summary>
    public const byte KindValue = 0x01;

    /// <summary>Kind byte of a deletion.</summary>
    public const byte KindTombstone = 0x02;

    /// <summary>Bytes of the trailing checksum.</summary>
    public const int ChecksumLength = 4;

    /// <summary>Bytes of a committed value before its payload.</summary>
    public const int CommittedHeaderLength = 1;

    /// <summary>Bytes of a staged value before its payload.</summary>
    public const int StagedHeaderLength = TxnId.Size + 12 + 1;

    /// <summary>Length of the committed value holding <paramref name="payloadLength"/> bytes.</summary>
    public static int CommittedLength(int payloadLength) => CommittedHeaderLength + payloadLength + ChecksumLength;

    /// <summary>Length of the staged value holding <paramref name="payloadLength"/> bytes.</summary>
    public static int StagedLength(int payloadLength) => StagedHeaderLength + payloadLength + ChecksumLength;

    /// <summary>
    /// Writes a committed value after the encoded key already at the start of <paramref name="record"/>
    /// (<paramref name="keyLength"/> bytes) and seals it; returns the value length.
    /// </summary>
    public static int WriteCommitted(Span<byte> record, int keyLength, bool tombstone, ReadOnlySpan<byte> payload)
    {
        var value = record[keyLength..];
        value[0] = tombstone ? KindTombstone : KindValue;
        payload.CopyTo(value[CommittedHeaderLength..]);
        int length = CommittedLength(payload.Length);
        Seal(record[..(keyLength + length)]);
        return length;
    }

    /// <summary>
    /// Writes a staged value after the encoded key already at the start of <paramref name="record"/> and seals
    /// it; returns the value length.
    /// </summary>
    public static int WriteStaged(
        Span<byte> record, int keyLength, TxnId txnId, Timestamp provisionalTimestamp, bool tombstone, ReadOnlySpan<byte> payload)
    {
        var value = record[keyLength..];
        txnId.Write(value);
        BinaryPrimitives.WriteInt64BigEndian(value[TxnId.Size..], provisionalTimestamp.WallNanos);
        BinaryPrimitives.WriteInt32BigEndian(value[(TxnId.Size + 8)..], provisionalTimestamp.Logical);
        value[StagedHeaderLength - 1] = tombstone ? KindTombstone : KindValue;
        payload.CopyTo(value[StagedHeaderLength..]);
        int length = StagedLength(payload.Length);
        Seal(record[..(keyLength + length)]);
        return length;
    }

    /// <summary>Writes the checksum of everything before the last 4 bytes into those bytes.</summary>
    private static void Seal(Span<byte> record) =>
        BinaryPrimitives.WriteUInt32LittleEndian(record[^ChecksumLength..], Checksum(record[..^ChecksumLength]));

    private static uint Checksum(ReadOnlySpan<byte> bytes) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, bytes);

    /// <summary>
    /// Checks and splits the committed value of a record (encoded key of <paramref name="keyLength"/> bytes,
    /// then the value); returns the payload. Throws <see cref="StorageCorruptionException"/> naming the user key.
    /// </summary>
    public static ReadOnlySpan<byte> ReadCommitted(ReadOnlySpan<byte> record, int keyLength, out bool tombstone)
    {
        var value = record[keyLength..];
        if (value.Length < CommittedLength(0)) throw Corrupt(record, keyLength, $"a committed value of {value.Length} bytes is too short");
        Verify(record, keyLength);
        tombstone = ReadKind(record, keyLength, value[0]);
        var payload = value[CommittedHeaderLength..^ChecksumLength];
        if (tombstone && !payload.IsEmpty) throw Corrupt(record, keyLength, "a tombstone carries a payload");
        return payload;
    }

    /// <summary>
    /// Checks and splits the staged value of a record; returns the payload. Throws
    /// <see cref="StorageCorruptionException"/> naming the user key.
    /// </summary>
    public static ReadOnlySpan<byte> ReadStaged(
        ReadOnlySpan<byte> record, int keyLength, out TxnId txnId, out Timestamp provisionalTimestamp, out bool tombstone)
    {
        var value = record[keyLength..];
        if (value.Length < StagedLength(0)) throw Corrupt(record, keyLength, $"a staged value of {value.Length} bytes is too short");
        Verify(record, keyLength);
        txnId = TxnId.Read(value);
        provisionalTimestamp = new Timestamp(
            BinaryPrimitives.ReadInt64BigEndian(value[TxnId.Size..]),
            BinaryPrimitives.ReadInt32BigEndian(value[(TxnId.Size + 8)..]));
        tombstone = ReadKind(record, keyLength, value[StagedHeaderLength - 1]);
        var payload = value[StagedHeaderLength..^ChecksumLength];
        if (tombstone && !payload.IsEmpty) throw Corrupt(record, keyLength, "a tombstone carries a payload");
        return payload;
    }

    /// <summary>The staged version's owner and provisional timestamp, checked, without copying its payload.</summary>
    public static StagedIntent ReadStagedIntent(ReadOnlySpan<byte> record, int keyLength)
    {
        ReadStaged(record, keyLength, out var txnId, out var provisionalTimestamp, out _);
        return new StagedIntent(txnId, provisionalTimestamp);
    }

    private static void Verify(ReadOnlySpan<byte> record, int keyLength)
    {
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(record[^ChecksumLength..]);
        uint computed = Checksum(record[..^ChecksumLength]);
        if (stored != computed)
            throw Corrupt(record, keyLength, $"checksum mismatch (stored 0x{stored:X8}, computed 0x{computed:X8})");
    }

    private static bool ReadKind(ReadOnlySpan<byte> record, int keyLength, byte kind) => kind switch
    {
        KindValue => false,
        KindTombstone => true,
        _ => throw Corrupt(record, keyLength, $"unknown kind 0x{kind:X2}"),
    };

    /// <summary>The exception for a bad value or key at the record's key: names the user key and version.</summary>
    public static StorageCorruptionException Corrupt(ReadOnlySpan<byte> record, int keyLength, string reason)
    {
        var key = record[..keyLength];
        int prefixLength = DataKeys.PrefixLength(key);
        string version = "unknown version";
        if (prefixLength >= 0)
        {
            var suffix = key[prefixLength..];
            if (DataKeys.IsStagedSuffix(suffix)) version = "staged version";
            else if (DataKeys.TryReadCommittedSuffix(suffix, out var timestamp)) version = $"version committed at {timestamp}";
        }
        return new StorageCorruptionException(
            $"Corrupt data for user key {KeyText.PrintableUserKeyOf(key)} ({version}) in the data column family: {reason}.");
    }
}
