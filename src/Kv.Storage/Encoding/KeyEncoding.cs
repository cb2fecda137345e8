using System.Buffers.Binary;

namespace Kv.Storage.Encoding;

/// <summary>
/// The one key layout of the data column family (docs/storage.md): an escaped user key followed by a version
/// suffix. Byte order of encoded keys equals (user key ascending, then version newest first), and no encoded
/// user key is a prefix of another's encoding, so a span of user keys is a span of encoded keys.
/// <code>
/// user key: every 0x00 byte becomes 0x00 0xFF; then the terminator 0x00 0x01
/// version:  staged  → 0x00 (sorts before every committed version of the key)
///           committed at ts → 0x01, (ulong.MaxValue − WallNanos) big-endian 8 bytes, (uint.MaxValue − Logical) big-endian 4 bytes
/// </code>
/// </summary>
public static class KeyEncoding
{
    /// <summary>The version suffix of a staged (hidden, transactional) version.</summary>
    public const byte StagedMarker = 0x00;

    /// <summary>The first byte of a committed version suffix.</summary>
    public const byte CommittedMarker = 0x01;

    /// <summary>Length of a committed version suffix.</summary>
    public const int CommittedSuffixLength = 13;

    /// <summary>Length of the escaped form of <paramref name="userKey"/> including its terminator.</summary>
    public static int EscapedLength(ReadOnlySpan<byte> userKey)
    {
        int zeros = 0;
        foreach (byte b in userKey) if (b == 0) zeros++;
        return userKey.Length + zeros + 2;
    }

    /// <summary>Writes the escaped user key and its terminator; returns the bytes written.</summary>
    public static int WriteUserKey(ReadOnlySpan<byte> userKey, Span<byte> destination)
    {
        int n = 0;
        foreach (byte b in userKey)
        {
            destination[n++] = b;
            if (b == 0) destination[n++] = 0xFF;
        }
        destination[n++] = 0x00;
        destination[n++] = 0x01;
        return n;
    }

    /// <summary>The escaped user key alone: the prefix shared by all versions of the key.</summary>
    public static byte[] UserKeyPrefix(ReadOnlySpan<byte> userKey)
    {
        var result = new byte[EscapedLength(userKey)];
        WriteUserKey(userKey, result);
        return result;
    }

    /// <summary>The key of the version of <paramref name="userKey"/> committed at <paramref name="timestamp"/>.</summary>
    public static byte[] Committed(ReadOnlySpan<byte> userKey, Timestamp timestamp)
    {
        var result = new byte[EscapedLength(userKey) + CommittedSuffixLength];
        int n = WriteUserKey(userKey, result);
        result[n] = CommittedMarker;
        BinaryPrimitives.WriteUInt64BigEndian(result.AsSpan(n + 1), ulong.MaxValue - (ulong)timestamp.WallNanos);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(n + 9), uint.MaxValue - (uint)timestamp.Logical);
        return result;
    }

    /// <summary>The key of the staged version of <paramref name="userKey"/> (at most one per key).</summary>
    public static byte[] Staged(ReadOnlySpan<byte> userKey)
    {
        var result = new byte[EscapedLength(userKey) + 1];
        int n = WriteUserKey(userKey, result);
        result[n] = StagedMarker;
        return result;
    }

    /// <summary>
    /// The smallest encoded key of <paramref name="userKey"/> or any greater user key: the lower bound of a span
    /// starting at it. An empty user key is the start of the key space.
    /// </summary>
    public static byte[] SpanStart(ReadOnlySpan<byte> userKey) => UserKeyPrefix(userKey);

    /// <summary>Splits an encoded data key into its user key and version; throws on a malformed key.</summary>
    public static DecodedKey Decode(ReadOnlySpan<byte> encoded)
    {
        var user = new byte[encoded.Length];
        int u = 0, i = 0;
        while (true)
        {
            if (i >= encoded.Length) throw new FormatException("Encoded key has no terminator.");
            byte b = encoded[i++];
            if (b != 0)
            {
                user[u++] = b;
                continue;
            }
            if (i >= encoded.Length) throw new FormatException("Encoded key ends inside an escape.");
            byte next = encoded[i++];
            if (next == 0xFF) { user[u++] = 0; continue; }
            if (next == 0x01) break;
            throw new FormatException($"Invalid escape 0x00 0x{next:X2} in encoded key.");
        }
        var userKey = user.AsSpan(0, u).ToArray();
        var suffix = encoded[i..];
        if (suffix.Length == 1 && suffix[0] == StagedMarker) return new DecodedKey(userKey, Staged: true, Timestamp.Zero);
        if (suffix.Length == CommittedSuffixLength && suffix[0] == CommittedMarker)
        {
            long wall = (long)(ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(suffix[1..]));
            int logical = (int)(uint.MaxValue - BinaryPrimitives.ReadUInt32BigEndian(suffix[9..]));
            return new DecodedKey(userKey, Staged: false, new Timestamp(wall, logical));
        }
        throw new FormatException($"Encoded key has an invalid version suffix of {suffix.Length} bytes.");
    }
}

/// <summary>A data key split into its parts.</summary>
public readonly record struct DecodedKey(byte[] UserKey, bool Staged, Timestamp Timestamp);
