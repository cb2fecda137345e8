using System.Buffers.Binary;
using System.IO.Hashing;
using Kv.Paxos;

namespace Kv.Storage.Paxos;

/// <summary>
/// Binary encoding of the Paxos durable state stored in the <c>paxos</c> column family (key layout:
/// <see cref="PaxosKeys"/>). Every value is framed as <c>version (1 byte) | payload | CRC32C (4 bytes LE)</c>,
/// where the CRC covers the key and everything before it: a flipped bit, a truncated value or a value stored
/// under the wrong key (another slot, another group) fails the check. RocksDB's block checksums catch damage
/// to SST files; this one also catches values that were wrong before they reached RocksDB and corruption in
/// memtables or the WAL, and it travels with the value. Numbers are fixed-width little-endian.
/// Decoding failures are <see cref="StorageCorruptionException"/> naming the group and the slot, the hard
/// state or the snapshot. Decoded values slice the buffer they were decoded from: do not reuse it.
/// </summary>
public static partial class PaxosStateCodec
{
    /// <summary>The version byte written in front of every value.</summary>
    public const byte FormatVersion = 1;

    private const int VersionBytes = 1;
    private const int ChecksumBytes = 4;
    private const int BallotBytes = 12;

    /// <summary>Encodes a group's hard state.</summary>
    public static byte[] EncodeHardState(long groupId, HardState state)
    {
        var value = NewValue(BallotBytes + 8, out var writer);
        WriteBallot(ref writer, state.Promised);
        writer.WriteInt64(state.ChosenPrefix);
        return Seal(PaxosKeys.HardState(groupId), value);
    }

    /// <summary>Decodes a group's hard state, verifying its checksum.</summary>
    public static HardState DecodeHardState(long groupId, ReadOnlySpan<byte> value)
    {
        try
        {
            var reader = Open(PaxosKeys.HardState(groupId), value);
            var promised = ReadBallot(ref reader);
            long chosenPrefix = reader.ReadInt64();
            reader.ExpectEnd();
            if (chosenPrefix < 0) throw new InvalidDataException($"negative chosen prefix {chosenPrefix}");
            return new HardState(promised, chosenPrefix);
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(groupId, "hard state", e);
        }
    }

    /// <summary>Encodes one log entry; it is stored under the key of its own slot.</summary>
    public static byte[] EncodeLogEntry(long groupId, LogEntry entry)
    {
        var value = NewValue(8 + BallotBytes + 1 + SlotValueSize(entry.Value), out var writer);
        writer.WriteInt64(entry.Slot);
        WriteBallot(ref writer, entry.Ballot);
        writer.WriteByte(entry.Chosen ? (byte)1 : (byte)0);
        WriteSlotValue(ref writer, entry.Value);
        return Seal(PaxosKeys.LogEntry(groupId, entry.Slot), value);
    }

    /// <summary>Decodes the log entry stored under the key of <paramref name="slot"/>, verifying its checksum.</summary>
    public static LogEntry DecodeLogEntry(long groupId, long slot, ReadOnlyMemory<byte> value)
    {
        try
        {
            var reader = Open(PaxosKeys.LogEntry(groupId, slot), value.Span);
            long storedSlot = reader.ReadInt64();
            if (storedSlot != slot) throw new InvalidDataException($"the value is for slot {storedSlot}");
            var ballot = ReadBallot(ref reader);
            byte flags = reader.ReadByte();
            if (flags > 1) throw new InvalidDataException($"unknown flags 0x{flags:x2}");
            var slotValue = ReadSlotValue(ref reader, value);
            reader.ExpectEnd();
            return new LogEntry(slot, ballot, slotValue, flags == 1);
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(groupId, $"slot {slot}", e);
        }
    }

    /// <summary>
    /// Encodes a snapshot: its index, its configuration history and its data, as one value. Range snapshots
    /// will outgrow one value; they are to move to the data column family (or ingested SST files), leaving
    /// only the metadata here.
    /// </summary>
    public static byte[] EncodeSnapshot(long groupId, Snapshot snapshot)
    {
        int size = 8 + 4 + 4 + snapshot.Data.Length;
        foreach (var entry in snapshot.Configurations) size += ConfigHistoryEntrySize(entry);
        var value = NewValue(size, out var writer);
        writer.WriteInt64(snapshot.Index);
        writer.WriteInt32(snapshot.Configurations.Count);
        foreach (var entry in snapshot.Configurations) WriteConfigHistoryEntry(ref writer, entry);
        writer.WriteInt32(snapshot.Data.Length);
        writer.WriteBytes(snapshot.Data.Span);
        return Seal(PaxosKeys.Snapshot(groupId), value);
    }

    /// <summary>Decodes a group's snapshot, verifying its checksum.</summary>
    public static Snapshot DecodeSnapshot(long groupId, ReadOnlyMemory<byte> value)
    {
        try
        {
            var reader = Open(PaxosKeys.Snapshot(groupId), value.Span);
            long index = reader.ReadInt64();
            if (index < 0) throw new InvalidDataException($"negative snapshot index {index}");
            int count = reader.ReadCount(ConfigHistoryEntryBytesMin);
            var configurations = new ConfigHistoryEntry[count];
            for (int i = 0; i < count; i++) configurations[i] = ReadConfigHistoryEntry(ref reader);
            int dataLength = reader.ReadCount(1);
            int dataStart = reader.Skip(dataLength);
            reader.ExpectEnd();
            return new Snapshot(index, configurations, value.Slice(dataStart, dataLength));
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(groupId, "snapshot", e);
        }
    }

    private static StorageCorruptionException Corrupt(long groupId, string what, Exception reason) =>
        new($"Paxos state of group {groupId} is corrupt at {what}: {reason.Message}", reason);

    private static byte[] NewValue(int payloadBytes, out ValueWriter writer)
    {
        var value = new byte[VersionBytes + payloadBytes + ChecksumBytes];
        writer = new ValueWriter(value.AsSpan(0, value.Length - ChecksumBytes));
        writer.WriteByte(FormatVersion);
        return value;
    }

    // Writes the checksum into the last four bytes; everything before them is already written.
    private static byte[] Seal(ReadOnlySpan<byte> key, byte[] value)
    {
        uint checksum = Checksum(key, value.AsSpan(0, value.Length - ChecksumBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(value.Length - ChecksumBytes), checksum);
        return value;
    }

    // Verifies the frame and returns a reader positioned on the payload.
    private static ValueReader Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (value.Length < VersionBytes + ChecksumBytes)
            throw new InvalidDataException($"value of {value.Length} bytes is shorter than its frame");
        var body = value[..^ChecksumBytes];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(value[^ChecksumBytes..]);
        uint computed = Checksum(key, body);
        if (stored != computed)
            throw new InvalidDataException($"checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        if (body[0] != FormatVersion) throw new InvalidDataException($"unknown format version {body[0]}");
        var reader = new ValueReader(body);
        reader.Skip(VersionBytes);
        return reader;
    }

    private static uint Checksum(ReadOnlySpan<byte> key, ReadOnlySpan<byte> body)
    {
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        crc.Append(key);
        crc.Append(body);
        return crc.GetCurrentHashAsUInt32();
    }
}
