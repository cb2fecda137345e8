using System.Buffers.Binary;
using Kv.Paxos;
using Kv.Storage.Paxos;
using RocksDbSharp;
using Snapshot = Kv.Paxos.Snapshot;

namespace Kv.Storage.Tests.Crash;

/// <summary>How the crash writer makes its batches durable.</summary>
public enum CrashWriteMode
{
    /// <summary>Concurrent writers through one <see cref="GroupCommit.GroupCommitter"/>.</summary>
    Group,
    /// <summary>Each writer writes its own batch with a synced <c>RocksDb.Write</c>.</summary>
    Direct,
}

/// <summary>
/// The crash test's workload, shared by the writer (child process) and the checker. Writer <c>w</c> writes
/// batches <c>seq = 0, 1, 2, …</c> one after another; batch <c>(w, seq)</c> holds <see cref="DataKeysPerBatch"/>
/// data keys whose values derive from the batch id and the key number, plus the Ready of Paxos group
/// <c>1000 + w</c> for slot <c>seq</c> (hard state, entries, and every 25th batch a snapshot). Everything is a
/// pure function of <c>(w, seq)</c>, so the checker knows what every stored byte must be.
/// </summary>
public static class CrashWorkload
{
    /// <summary>Data keys in every batch.</summary>
    public const int DataKeysPerBatch = 4;

    /// <summary>Group id of writer 0.</summary>
    public const long FirstGroupId = 1000;

    /// <summary>Every this many batches (from 25 on) carries a snapshot.</summary>
    public const int SnapshotEverySlots = 25;

    private const byte DataKeyPrefix = (byte)'c';
    private static readonly Configuration Genesis = new([1, 2, 3]);

    /// <summary>The id printed in the <c>ACK</c> line of batch <paramref name="sequence"/> of <paramref name="writer"/>.</summary>
    public static long BatchId(int writer, long sequence) => ((long)writer << 32) | sequence;

    /// <summary>The writer and sequence number of a batch id.</summary>
    public static (int Writer, long Sequence) SplitBatchId(long id) => ((int)(id >> 32), id & 0xFFFF_FFFF);

    /// <summary>The Paxos group a writer persists.</summary>
    public static long GroupOf(int writer) => FirstGroupId + writer;

    /// <summary>Data key <paramref name="k"/> of a batch.</summary>
    public static byte[] DataKey(long id, int k)
    {
        var key = new byte[10];
        key[0] = DataKeyPrefix;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), id);
        key[9] = (byte)k;
        return key;
    }

    /// <summary>The value of data key <paramref name="k"/> of a batch: its id and k, then pseudo-random bytes.</summary>
    public static byte[] DataValue(long id, int k)
    {
        ulong seed = Mix((ulong)id * 31 + (ulong)k);
        var value = new byte[24 + (int)(seed % 232)];
        BinaryPrimitives.WriteInt64LittleEndian(value, id);
        value[8] = (byte)k;
        Fill(seed, value.AsSpan(9));
        return value;
    }

    /// <summary>What batch <paramref name="sequence"/> of <paramref name="writer"/> persists for its group.</summary>
    public static Ready ReadyFor(int writer, long sequence) => new()
    {
        HardState = HardStateFor(writer, sequence),
        Snapshot = sequence == 0 ? Snapshot.Genesis(Genesis)
            : sequence % SnapshotEverySlots == 0 ? SnapshotFor(writer, sequence) : null,
        // The previous slot is rewritten as chosen: an entry replaces what is stored for its slot.
        // Slot s is written chosen when s is even (ExpectedState's rule), slot 0 too.
        Entries = sequence == 0
            ? [EntryFor(writer, 0, chosen: true)]
            : [EntryFor(writer, sequence - 1, chosen: true), EntryFor(writer, sequence, chosen: sequence % 2 == 0)],
    };

    /// <summary>Adds batch <paramref name="sequence"/> of <paramref name="writer"/> to <paramref name="batch"/>.</summary>
    public static void AddBatch(WriteBatch batch, NodeStore store, PaxosStateStore paxos, int writer, long sequence,
        IReadOnlyList<(byte[] Key, byte[] Value)> data)
    {
        foreach (var (key, value) in data) batch.Put(key, value, store.Data);
        paxos.AddToBatch(batch, GroupOf(writer), ReadyFor(writer, sequence));
    }

    /// <summary>The data keys and values of a batch, prepared outside the commit loop.</summary>
    public static (byte[] Key, byte[] Value)[] DataFor(long id)
    {
        var data = new (byte[], byte[])[DataKeysPerBatch];
        for (int k = 0; k < DataKeysPerBatch; k++) data[k] = (DataKey(id, k), DataValue(id, k));
        return data;
    }

    /// <summary>The hard state written by a batch.</summary>
    public static HardState HardStateFor(int writer, long sequence) => new(BallotFor(writer, sequence), sequence);

    /// <summary>The log entry for <paramref name="slot"/>.</summary>
    public static LogEntry EntryFor(int writer, long slot, bool chosen) =>
        new(slot, BallotFor(writer, slot), ValueFor(writer, slot), chosen);

    /// <summary>The snapshot the group must hold once batch <paramref name="lastSequence"/> is its last durable one.</summary>
    public static Snapshot ExpectedSnapshot(int writer, long lastSequence)
    {
        long at = lastSequence - lastSequence % SnapshotEverySlots;
        return at == 0 ? Snapshot.Genesis(Genesis) : SnapshotFor(writer, at);
    }

    /// <summary>The state the group must hold once batch <paramref name="lastSequence"/> is its last durable one.</summary>
    public static PersistentState ExpectedState(int writer, long lastSequence)
    {
        var snapshot = ExpectedSnapshot(writer, lastSequence);
        var entries = new List<LogEntry>();
        for (long slot = snapshot.Index; slot <= lastSequence; slot++)
            entries.Add(EntryFor(writer, slot, chosen: slot < lastSequence || lastSequence % 2 == 0));
        return new PersistentState(HardStateFor(writer, lastSequence), snapshot, entries);
    }

    /// <summary>Compares two persistent states by content; returns what differs, or null.</summary>
    public static string? Difference(PersistentState expected, PersistentState actual)
    {
        if (expected.HardState != actual.HardState) return $"hard state {actual.HardState}, expected {expected.HardState}";
        var (es, @as) = (expected.Snapshot, actual.Snapshot);
        if (es.Index != @as.Index || !es.Data.Span.SequenceEqual(@as.Data.Span)
            || es.Configurations.Count != @as.Configurations.Count
            || es.Configurations.Zip(@as.Configurations).Any(p => p.First.FromSlot != p.Second.FromSlot
                || p.First.DecidedAtSlot != p.Second.DecidedAtSlot || !p.First.Configuration.Equals(p.Second.Configuration)))
            return $"snapshot at {@as.Index} differs from the expected one at {es.Index}";
        if (expected.Entries.Count != actual.Entries.Count)
            return $"{actual.Entries.Count} entries [{Slots(actual)}], expected {expected.Entries.Count} [{Slots(expected)}]";
        for (int i = 0; i < expected.Entries.Count; i++)
        {
            LogEntry e = expected.Entries[i], a = actual.Entries[i];
            if (e.Slot != a.Slot || e.Ballot != a.Ballot || e.Chosen != a.Chosen || !e.Value.ContentEquals(a.Value))
                return $"entry {a.Slot} ({a.Ballot}, {a.Value}, chosen={a.Chosen}) differs from ({e.Slot}, {e.Ballot}, {e.Value}, chosen={e.Chosen})";
        }
        return null;
    }

    private static string Slots(PersistentState state) =>
        state.Entries.Count == 0 ? "" : $"{state.Entries[0].Slot}..{state.Entries[^1].Slot}";

    private static Ballot BallotFor(int writer, long sequence) => new(sequence / 16 + 1, writer + 1);

    private static Snapshot SnapshotFor(int writer, long sequence)
    {
        var data = new byte[100 + (int)(sequence % 400)];
        Fill(Mix(((ulong)writer << 40) ^ (ulong)sequence ^ 0x5A5A), data);
        ConfigHistoryEntry[] configurations =
        [
            new(0, -1, Genesis),
            new(sequence - 1, sequence - 4, new Configuration([1, 2, 3], [4 + writer % 3])),
        ];
        return new Snapshot(sequence - 3, configurations, data);
    }

    private static SlotValue ValueFor(int writer, long slot)
    {
        if (slot % 11 == 5) return SlotValue.NoOp;
        if (slot % 13 == 7) return SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.AddLearner, 4 + (int)(slot % 3)));
        var commands = new Command[1 + slot % 3];
        for (int i = 0; i < commands.Length; i++)
        {
            var payload = new byte[8 + (int)((slot * 7 + i) % 90)];
            Fill(Mix(((ulong)writer << 48) ^ ((ulong)slot << 4) ^ (ulong)i), payload);
            commands[i] = new Command(writer + 1, slot * 4 + i, payload);
        }
        return SlotValue.OfCommands(commands);
    }

    // SplitMix64: a fixed, well-mixed function, so every value is reproducible from its coordinates.
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    private static void Fill(ulong seed, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            if (i % 8 == 0) seed = Mix(seed);
            destination[i] = (byte)(seed >> (8 * (i % 8)));
        }
    }

    internal static bool TryParseDataKey(ReadOnlySpan<byte> key, out long id, out int k)
    {
        bool ok = key.Length == 10 && key[0] == DataKeyPrefix && key[9] < DataKeysPerBatch;
        id = ok ? BinaryPrimitives.ReadInt64BigEndian(key[1..]) : 0;
        k = ok ? key[9] : 0;
        return ok;
    }

    internal static byte[] DataLowerBound => [DataKeyPrefix];

    internal static byte[] DataUpperBound => [DataKeyPrefix + 1];
}
