using Google.Protobuf;
using Kv.Paxos;
using PaxosConfiguration = Kv.Paxos.Configuration;
using Kv.Server.Peers;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

public sealed class PaxosMessageCodecTests
{
    public static TheoryData<int> SampleIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < PaxosMessageSamples.All().Count; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void RoundTrip_ThroughBytes_IsLossless(int index)
    {
        var original = PaxosMessageSamples.All()[index];
        const ulong groupId = 0xFEDC_BA98_7654_3210;

        var bytes = PaxosMessageCodec.ToProto(groupId, original).ToByteArray();
        var (decodedGroup, decoded) = PaxosMessageCodec.FromProto(Wire.PaxosMessage.Parser.ParseFrom(bytes));

        Assert.Equal(groupId, decodedGroup);
        Assert.Equal(original.GetType(), decoded.GetType());
        Assert.Equal(PaxosMessageSamples.Describe(original), PaxosMessageSamples.Describe(decoded));
    }

    [Fact]
    public void Samples_CoverEveryMessageType()
    {
        var all = typeof(PaxosMessage).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(PaxosMessage)) && !t.IsAbstract)
            .Select(t => t.Name).Order();
        var sampled = PaxosMessageSamples.All().Select(m => m.GetType().Name).Distinct().Order();
        Assert.Equal(all, sampled);
    }

    [Fact]
    public void RoundTrip_KeepsNullAndZeroTransferFromApart()
    {
        var none = Decode(Encode(new Prepare(1, 2, new Ballot(3, 1), 0, false, TransferFrom: null)));
        var zero = Decode(Encode(new Prepare(1, 2, new Ballot(3, 1), 0, false, TransferFrom: Ballot.Zero)));

        Assert.Null(Assert.IsType<Prepare>(none).TransferFrom);
        Assert.Equal(Ballot.Zero, Assert.IsType<Prepare>(zero).TransferFrom);
    }

    [Fact]
    public void RoundTrip_CommandValues_ContentEqual()
    {
        var value = SlotValue.OfCommands([new Command(7, 8, new byte[] { 1, 2, 3 }), new Command(7, 9, new byte[] { 4 })]);
        var decoded = Assert.IsType<Accept>(Decode(Encode(new Accept(1, 2, new Ballot(1, 1), [new ProposedSlot(3, value)], 0, 3))));
        Assert.True(value.ContentEquals(decoded.Slots[0].Value));
    }

    [Fact]
    public void ToProto_UnknownMessageType_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => PaxosMessageCodec.ToProto(1, new AlienMessage(1, 2, Ballot.Zero)));
    }

    private sealed record AlienMessage(int From, int To, Ballot Ballot) : PaxosMessage(From, To, Ballot);

    public static TheoryData<string, Action<Wire.PaxosMessage>> MalformedCases() => new()
    {
        { "no body", p => p.ClearBody() },
        { "lacks ballot", p => p.Ballot = null },
        { "ballot.round", p => p.Ballot.Round = -1 },
        { "from", p => p.From = 0 },
        { "to", p => p.To = -3 },
        { "accept.slots.slot", p => p.Accept.Slots[0].Slot = -1 },
        { "accept.tenure_start", p => p.Accept.TenureStart = -5 },
        { "accept.slots.value", p => p.Accept.Slots[0].Value = null },
        { "unknown kind", p => p.Accept.Slots[0].Value.Kind = (Wire.SlotValue.Types.Kind)7 },
        { "without commands", p => p.Accept.Slots[0].Value.Commands.Clear() },
        { "carries a membership change", p => p.Accept.Slots[0].Value.Change = new Wire.MembershipChange { ReplicaId = 3 } },
        { "change.kind", p => p.Accept.Slots[1].Value.Change.Kind = (Wire.MembershipChange.Types.Kind)9 },
        { "change.replica_id", p => p.Accept.Slots[1].Value.Change.ReplicaId = 0 },
        { "without the change", p => p.Accept.Slots[1].Value.Change = null },
        { "no-op but carries", p => p.Accept.Slots[3].Value.Commands.Add(new Wire.PaxosCommand { ClientId = 1 }) },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void FromProto_MalformedAccept_ThrowsInvalidDataNamingTheField(string expectedText, Action<Wire.PaxosMessage> corrupt)
    {
        // Index 5 of the samples is the Accept with commands, membership changes and a no-op.
        var p = PaxosMessageCodec.ToProto(1, PaxosMessageSamples.All()[5]);
        corrupt(p);
        var e = Assert.Throws<InvalidDataException>(() => PaxosMessageCodec.FromProto(Reparse(p)));
        Assert.Contains(expectedText, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<Wire.Snapshot>> MalformedSnapshots() => new()
    {
        { "index", s => s.Index = -1 },
        { "carries no configuration", s => s.Configurations.Clear() },
        { "at least one voter", s => s.Configurations[0].Voters.Clear() },
        { "either a voter or a learner", s => s.Configurations[0].Learners.Add(1) },
        { "positive", s => s.Configurations[1].Voters.Add(-2) },
        { "decided_at_slot", s => s.Configurations[0].DecidedAtSlot = -2 },
        { "from_slot", s => s.Configurations[0].FromSlot = -1 },
    };

    [Theory]
    [MemberData(nameof(MalformedSnapshots))]
    public void FromProto_MalformedSnapshot_ThrowsInvalidData(string expectedText, Action<Wire.Snapshot> corrupt)
    {
        var snapshot = PaxosMessageSamples.All().OfType<InstallSnapshot>().First();
        var p = PaxosMessageCodec.ToProto(1, snapshot);
        corrupt(p.InstallSnapshot.Snapshot);
        var e = Assert.Throws<InvalidDataException>(() => PaxosMessageCodec.FromProto(Reparse(p)));
        Assert.Contains(expectedText, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromProto_OtherNegativeFields_ThrowInvalidData()
    {
        var cases = new (PaxosMessage Message, Action<Wire.PaxosMessage> Corrupt)[]
        {
            (new Prepare(1, 2, new Ballot(1, 1), 0, false, null), p => p.Prepare.FromSlot = -1),
            (new Prepare(1, 2, new Ballot(1, 1), 0, false, new Ballot(1, 2)), p => p.Prepare.TransferFrom.ReplicaId = -1),
            (new Accepted(1, 2, new Ballot(1, 1), [1], 0), p => p.Accepted.Slots[0] = -4),
            (new Accepted(1, 2, new Ballot(1, 1), [1], 0), p => p.Accepted.ChosenPrefix = -2),
            (new CatchUpRequest(1, 2, new Ballot(1, 1), 0), p => p.CatchUpRequest.FromSlot = -2),
            (new HeartbeatAck(1, 2, new Ballot(1, 1), 1, 0, 0), p => p.HeartbeatAck.Sequence = -1),
            (new Rejected(1, 2, new Ballot(1, 1), new Ballot(2, 2)), p => p.Rejected.Promised = null),
            (new InstallSnapshot(1, 2, new Ballot(1, 1), Snapshot.Genesis(new PaxosConfiguration([1]))), p => p.InstallSnapshot.Snapshot = null),
            (PaxosMessageSamples.All()[3], p => p.Promise.Entries[0].Ballot = null),
        };
        foreach (var (message, corrupt) in cases)
        {
            var p = PaxosMessageCodec.ToProto(1, message);
            corrupt(p);
            Assert.Throws<InvalidDataException>(() => PaxosMessageCodec.FromProto(Reparse(p)));
        }
    }

    [Fact]
    public void FromProto_BodyOfAFutureType_ThrowsInvalidData()
    {
        // A newer sender's body (here field 9, unused) lands in unknown fields: the message parses but has no body this node understands.
        var p = PaxosMessageCodec.ToProto(1, new TimeoutNow(1, 2, new Ballot(1, 1)));
        p.ClearBody();
        var bytes = p.ToByteArray().Concat(new byte[] { (9 << 3) | 2, 0 }).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => PaxosMessageCodec.FromProto(Wire.PaxosMessage.Parser.ParseFrom(bytes)));
        Assert.Contains("no body", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Encode(PaxosMessage m) => PaxosMessageCodec.ToProto(1, m).ToByteArray();

    private static PaxosMessage Decode(byte[] bytes) => PaxosMessageCodec.FromProto(Wire.PaxosMessage.Parser.ParseFrom(bytes)).Message;

    // Through bytes, as a peer would send it: corruptions must survive encoding (unknown enum values do).
    private static Wire.PaxosMessage Reparse(Wire.PaxosMessage p) => Wire.PaxosMessage.Parser.ParseFrom(p.ToByteArray());
}
