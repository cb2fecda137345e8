using System.Buffers.Binary;
using Kv.Storage.Encoding;

namespace Kv.Storage.Mvcc;

/// <summary>
/// Span-based, allocation-free helpers over the layout of <see cref="KeyEncoding"/> for the read and write
/// paths. They must produce exactly KeyEncoding's bytes; Encoding/KeyEncodingTests checks that they do.
/// The "prefix" of a user key is its escaped form with the terminator 0x00 0x01: every version of the key
/// starts with it, and no other key's encoding does.
/// </summary>
internal static class DataKeys
{
    /// <summary>Length of a staged version suffix.</summary>
    public const int StagedSuffixLength = 1;

    /// <summary>
    /// Writes the prefix of <paramref name="userKey"/> at the start of <paramref name="destination"/>; returns
    /// its length.
    /// </summary>
    public static int WritePrefix(ReadOnlySpan<byte> userKey, Span<byte> destination) =>
        KeyEncoding.WriteUserKey(userKey, destination);

    /// <summary>
    /// Writes the committed suffix for <paramref name="timestamp"/> at <paramref name="destination"/>; returns
    /// <see cref="KeyEncoding.CommittedSuffixLength"/>.
    /// </summary>
    public static int WriteCommittedSuffix(Timestamp timestamp, Span<byte> destination)
    {
        destination[0] = KeyEncoding.CommittedMarker;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], ulong.MaxValue - (ulong)timestamp.WallNanos);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], uint.MaxValue - (uint)timestamp.Logical);
        return KeyEncoding.CommittedSuffixLength;
    }

    /// <summary>True when <paramref name="suffix"/> is the staged version suffix.</summary>
    public static bool IsStagedSuffix(ReadOnlySpan<byte> suffix) =>
        suffix.Length == StagedSuffixLength && suffix[0] == KeyEncoding.StagedMarker;

    /// <summary>
    /// Reads the timestamp of a committed suffix; false when <paramref name="suffix"/> is not a well-formed
    /// committed suffix (the caller reports corruption).
    /// </summary>
    public static bool TryReadCommittedSuffix(ReadOnlySpan<byte> suffix, out Timestamp timestamp)
    {
        if (suffix.Length != KeyEncoding.CommittedSuffixLength || suffix[0] != KeyEncoding.CommittedMarker)
        {
            timestamp = default;
            return false;
        }
        ulong wall = ulong.MaxValue - BinaryPrimitives.ReadUInt64BigEndian(suffix[1..]);
        uint logical = uint.MaxValue - BinaryPrimitives.ReadUInt32BigEndian(suffix[9..]);
        timestamp = new Timestamp((long)wall, (int)logical);
        // Writers only encode non-negative components; anything else did not come from us.
        return wall <= long.MaxValue && logical <= int.MaxValue;
    }

    /// <summary>
    /// The length of the prefix (escaped user key and terminator) at the start of <paramref name="encoded"/>, or
    /// −1 when the escaping is malformed or there is no terminator.
    /// </summary>
    public static int PrefixLength(ReadOnlySpan<byte> encoded)
    {
        int position = 0;
        while (true)
        {
            int zero = encoded[position..].IndexOf((byte)0);
            if (zero < 0) return -1;
            int at = position + zero;
            if (at + 1 >= encoded.Length) return -1;
            byte next = encoded[at + 1];
            if (next == 0x01) return at + 2;
            if (next != 0xFF) return -1;
            position = at + 2;
        }
    }

    /// <summary>
    /// The user key of a prefix (escaped key and terminator), or of a malformed one as far as it goes.
    /// </summary>
    public static byte[] Unescape(ReadOnlySpan<byte> prefix)
    {
        int body = prefix.Length >= 2 && prefix[^2] == 0x00 && prefix[^1] == 0x01 ? prefix.Length - 2 : prefix.Length;
        var escaped = prefix[..body];
        // Most keys hold no zero byte and so no escape: one vectorized search instead of the byte loops below.
        if (!escaped.Contains((byte)0)) return escaped.ToArray();
        int length = 0;
        for (int i = 0; i < escaped.Length; i++, length++)
            if (escaped[i] == 0 && i + 1 < escaped.Length && escaped[i + 1] == 0xFF) i++;
        var user = new byte[length];
        for (int i = 0, u = 0; i < escaped.Length; i++, u++)
        {
            user[u] = escaped[i];
            if (escaped[i] == 0 && i + 1 < escaped.Length && escaped[i + 1] == 0xFF) i++;
        }
        return user;
    }

    /// <summary>
    /// Turns a prefix into the exclusive upper bound of its key's versions (the terminator 0x00 0x01 becomes
    /// 0x00 0x02: above every version of the key, below every greater key), or back.
    /// </summary>
    public static void SetPrefixEnd(Span<byte> prefix, bool end) => prefix[^1] = end ? (byte)0x02 : (byte)0x01;
}
