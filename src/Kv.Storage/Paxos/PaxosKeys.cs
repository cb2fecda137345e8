using System.Buffers.Binary;

namespace Kv.Storage.Paxos;

/// <summary>
/// Key layout of the <c>paxos</c> column family, shared by every group on the node:
/// <c>groupId (8 bytes, big-endian) | tag (1 byte) | slot (8 bytes, big-endian; log entries only)</c>.
/// Big-endian makes byte order numeric order, so a group's keys are contiguous and its log entries sort by slot;
/// one group's state is one key range (loaded by one scan, deleted by one range delete).
/// </summary>
public static class PaxosKeys
{
    /// <summary>Tag of the hard state key (promise and chosen prefix).</summary>
    public const byte HardStateTag = 0x01;

    /// <summary>Tag of the snapshot key.</summary>
    public const byte SnapshotTag = 0x02;

    /// <summary>Tag of log entry keys, followed by the slot.</summary>
    public const byte LogEntryTag = 0x03;

    /// <summary>Length of the hard state and snapshot keys.</summary>
    public const int GroupKeyLength = 9;

    /// <summary>Length of a log entry key.</summary>
    public const int LogEntryKeyLength = 17;

    // Above every tag, so "groupId | 0xFF" is an exclusive upper bound of a group's keys.
    private const byte AfterLastTag = 0xFF;

    /// <summary>The key of a group's hard state.</summary>
    public static byte[] HardState(long groupId) => GroupKey(groupId, HardStateTag);

    /// <summary>The key of a group's snapshot.</summary>
    public static byte[] Snapshot(long groupId) => GroupKey(groupId, SnapshotTag);

    /// <summary>The key of a group's log entry for <paramref name="slot"/>.</summary>
    public static byte[] LogEntry(long groupId, long slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        var key = new byte[LogEntryKeyLength];
        WriteGroupPrefix(key, groupId, LogEntryTag);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(GroupKeyLength), slot);
        return key;
    }

    /// <summary>The inclusive lower bound of a group's keys.</summary>
    public static byte[] GroupStart(long groupId)
    {
        CheckGroupId(groupId);
        var key = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(key, groupId);
        return key;
    }

    /// <summary>The exclusive upper bound of a group's keys.</summary>
    public static byte[] GroupEnd(long groupId) => GroupKey(groupId, AfterLastTag);

    /// <summary>The inclusive lower bound of a group's log entry keys.</summary>
    public static byte[] LogStart(long groupId) => GroupKey(groupId, LogEntryTag);

    /// <summary>Reads the group id of any key of this column family (keys shorter than 8 bytes are corrupt).</summary>
    public static bool TryReadGroupId(ReadOnlySpan<byte> key, out long groupId)
    {
        groupId = key.Length >= 8 ? BinaryPrimitives.ReadInt64BigEndian(key) : -1;
        return key.Length >= 8 && groupId >= 0;
    }

    /// <summary>Reads the slot of a log entry key.</summary>
    public static long ReadSlot(ReadOnlySpan<byte> logEntryKey) =>
        BinaryPrimitives.ReadInt64BigEndian(logEntryKey[GroupKeyLength..]);

    private static byte[] GroupKey(long groupId, byte tag)
    {
        var key = new byte[GroupKeyLength];
        WriteGroupPrefix(key, groupId, tag);
        return key;
    }

    private static void WriteGroupPrefix(Span<byte> key, long groupId, byte tag)
    {
        CheckGroupId(groupId);
        BinaryPrimitives.WriteInt64BigEndian(key, groupId);
        key[8] = tag;
    }

    // Negative ids would sort after positive ones; nothing needs them, so they are refused.
    private static void CheckGroupId(long groupId) => ArgumentOutOfRangeException.ThrowIfNegative(groupId);
}
