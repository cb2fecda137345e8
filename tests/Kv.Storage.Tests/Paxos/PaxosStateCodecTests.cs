using Kv.Paxos;
using Kv.Storage.Paxos;

namespace Kv.Storage.Tests.Paxos;

public sealed class PaxosStateCodecTests
{
    private static readonly Command[] TwoCommands =
    [
        new(7, 1, new byte[] { 1, 2, 3 }),
        new(0, 0, ReadOnlyMemory<byte>.Empty),
    ];

    public static TheoryData<string> Values => new() { "noop", "commands", "add", "promote", "remove" };

    private static SlotValue ValueNamed(string name) => name switch
    {
        "noop" => SlotValue.NoOp,
        "commands" => SlotValue.OfCommands(TwoCommands),
        "add" => SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.AddLearner, 4)),
        "promote" => SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.PromoteLearner, 5)),
        _ => SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.Remove, 2)),
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void LogEntry_RoundTripsEveryKindOfValue(string name)
    {
        var entry = new LogEntry(41, new Ballot(9, 3), ValueNamed(name), Chosen: name != "noop");
        var decoded = PaxosStateCodec.DecodeLogEntry(12, 41, PaxosStateCodec.EncodeLogEntry(12, entry));

        Assert.Equal((entry.Slot, entry.Ballot, entry.Chosen), (decoded.Slot, decoded.Ballot, decoded.Chosen));
        Assert.True(entry.Value.ContentEquals(decoded.Value), $"{decoded.Value} != {entry.Value}");
    }

    [Fact]
    public void HardState_RoundTrips()
    {
        var state = new HardState(new Ballot(long.MaxValue - 1, int.MaxValue), 123_456_789_012);
        Assert.Equal(state, PaxosStateCodec.DecodeHardState(5, PaxosStateCodec.EncodeHardState(5, state)));
    }

    [Fact]
    public void Snapshot_RoundTripsIndexConfigurationsAndData()
    {
        var snapshot = new Snapshot(77,
            [new ConfigHistoryEntry(0, -1, new Configuration([1, 2, 3])), new ConfigHistoryEntry(80, 72, new Configuration([1, 2, 3, 4], [6, 5]))],
            new byte[] { 9, 8, 7, 6 });
        var decoded = PaxosStateCodec.DecodeSnapshot(5, PaxosStateCodec.EncodeSnapshot(5, snapshot));

        Assert.Equal(77, decoded.Index);
        Assert.Equal(snapshot.Data.ToArray(), decoded.Data.ToArray());
        Assert.Equal(snapshot.Configurations.Select(c => (c.FromSlot, c.DecidedAtSlot, c.Configuration)),
            decoded.Configurations.Select(c => (c.FromSlot, c.DecidedAtSlot, c.Configuration)));
    }

    [Fact]
    public void EveryFlippedBit_IsReportedAsCorruptionNamingGroupAndSlot()
    {
        var entry = new LogEntry(3, new Ballot(2, 1), SlotValue.OfCommands(TwoCommands), Chosen: true);
        byte[] encoded = PaxosStateCodec.EncodeLogEntry(8, entry);
        for (int bit = 0; bit < encoded.Length * 8; bit++)
        {
            byte[] damaged = (byte[])encoded.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            var e = Assert.Throws<StorageCorruptionException>(() => PaxosStateCodec.DecodeLogEntry(8, 3, damaged));
            Assert.Contains("group 8", e.Message);
            Assert.Contains("slot 3", e.Message);
        }
    }

    [Fact]
    public void ValueUnderAnotherSlotOrGroupKey_FailsItsChecksum()
    {
        byte[] encoded = PaxosStateCodec.EncodeLogEntry(8, new LogEntry(3, new Ballot(2, 1), SlotValue.NoOp, false));

        Assert.Contains("slot 4", Assert.Throws<StorageCorruptionException>(() => PaxosStateCodec.DecodeLogEntry(8, 4, encoded)).Message);
        Assert.Contains("group 9", Assert.Throws<StorageCorruptionException>(() => PaxosStateCodec.DecodeLogEntry(9, 3, encoded)).Message);
    }

    [Fact]
    public void TruncatedOrEmptyValues_AreCorruptionNotCrashes()
    {
        byte[] hardState = PaxosStateCodec.EncodeHardState(1, new HardState(new Ballot(1, 1), 1));
        for (int length = 0; length < hardState.Length; length++)
        {
            var e = Assert.Throws<StorageCorruptionException>(() => PaxosStateCodec.DecodeHardState(1, hardState.AsSpan(0, length)));
            Assert.Contains("hard state", e.Message);
        }
        byte[] snapshot = PaxosStateCodec.EncodeSnapshot(1, Snapshot.Genesis(new Configuration([1])));
        Assert.Contains("snapshot", Assert.Throws<StorageCorruptionException>(() => PaxosStateCodec.DecodeSnapshot(1, snapshot.AsMemory(1))).Message);
    }

    [Fact]
    public void Keys_SortByGroupThenTagThenSlot()
    {
        byte[][] ordered =
        [
            PaxosKeys.HardState(1), PaxosKeys.Snapshot(1), PaxosKeys.LogEntry(1, 0), PaxosKeys.LogEntry(1, 255),
            PaxosKeys.LogEntry(1, 256), PaxosKeys.LogEntry(1, long.MaxValue), PaxosKeys.GroupEnd(1),
            PaxosKeys.GroupStart(2), PaxosKeys.HardState(2), PaxosKeys.HardState(256),
        ];
        for (int i = 1; i < ordered.Length; i++)
            Assert.True(ordered[i - 1].AsSpan().SequenceCompareTo(ordered[i]) < 0, $"key {i - 1} !< key {i}");
        Assert.Equal("00000000000000010300000000000000FF", Convert.ToHexString(PaxosKeys.LogEntry(1, 255)));
    }
}
