using System.Text;
using Kv.Paxos;
using PaxosConfiguration = Kv.Paxos.Configuration;

namespace Kv.Server.Tests.Peers;

/// <summary>One message of every Paxos type with non-trivial contents, and a structural rendering to compare them.</summary>
internal static class PaxosMessageSamples
{
    private static readonly Ballot Leader = new(7, 2);

    private static SlotValue Commands(params (long Client, long Sequence, string Payload)[] commands) =>
        SlotValue.OfCommands(commands.Select(c => new Command(c.Client, c.Sequence, Encoding.UTF8.GetBytes(c.Payload))).ToArray());

    private static SlotValue BinaryCommand() =>
        SlotValue.OfCommands([new Command(0, 0, new byte[] { 0, 255, 1, 254, 0 }), new Command(long.MaxValue, long.MaxValue, ReadOnlyMemory<byte>.Empty)]);

    public static IReadOnlyList<PaxosMessage> All() =>
    [
        new Prepare(1, 2, Leader, FromSlot: 40, PreVote: false, TransferFrom: null),
        new Prepare(1, 3, Leader, FromSlot: 0, PreVote: true, TransferFrom: new Ballot(6, 3)),
        new Prepare(1, 3, Leader, FromSlot: 5, PreVote: false, TransferFrom: Ballot.Zero),
        new Promise(2, 1, Leader, PreVote: false, Granted: true, Promised: Leader, FromSlot: 40,
            Entries:
            [
                new LogEntry(40, new Ballot(5, 1), Commands((9, 1, "put a=1"), (9, 2, "put b=2")), Chosen: false),
                new LogEntry(41, Ballot.Zero, SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.AddLearner, 4)), Chosen: true),
                new LogEntry(42, new Ballot(6, 3), SlotValue.NoOp, Chosen: false),
                new LogEntry(43, new Ballot(6, 3), BinaryCommand(), Chosen: true),
            ],
            ChosenPrefix: 41, SnapshotIndex: 12),
        new Promise(2, 1, Leader, PreVote: true, Granted: false, Promised: new Ballot(9, 3), FromSlot: 0, Entries: [], ChosenPrefix: 0, SnapshotIndex: 0),
        new Accept(2, 3, Leader,
            [
                new ProposedSlot(100, Commands((1, 10, "x"))),
                new ProposedSlot(101, SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.PromoteLearner, 4))),
                new ProposedSlot(102, SlotValue.OfMembership(new MembershipChange(MembershipChangeKind.Remove, 1))),
                new ProposedSlot(103, SlotValue.NoOp),
            ],
            TenureStart: 90, ChosenBelow: 99),
        new Accepted(3, 2, Leader, [100, 101, 102, 103], ChosenPrefix: 99),
        new Accepted(4, 2, Leader, [], ChosenPrefix: -1),
        new Rejected(3, 1, new Ballot(3, 1), Promised: Leader),
        new Heartbeat(2, 3, Leader, Sequence: 123456789012, TenureStart: 90, ChosenBelow: 104),
        new Heartbeat(2, 3, Leader, Sequence: 7, TenureStart: 90, ChosenBelow: 104, Quiesce: true),
        new HeartbeatAck(3, 2, Leader, Sequence: 123456789012, ChosenPrefix: -1, ChosenBelowSeen: 104),
        new CatchUpRequest(4, 2, Leader, FromSlot: -1),
        new CatchUpRequest(3, 2, Ballot.Zero, FromSlot: 17),
        new ChosenValues(2, 4, Leader, [new ProposedSlot(17, Commands((5, 1, "é ünïcode"))), new ProposedSlot(18, BinaryCommand())]),
        new InstallSnapshot(2, 4, Leader, new Snapshot(500,
            [
                new ConfigHistoryEntry(480, 470, new PaxosConfiguration([1, 2, 3], [4])),
                new ConfigHistoryEntry(510, 499, new PaxosConfiguration([1, 2, 3, 4])),
            ],
            new byte[] { 1, 2, 3, 0, 42 })),
        new InstallSnapshot(2, 4, Leader, Snapshot.Genesis(new PaxosConfiguration([1, 2, 3]))),
        new CatchUpAck(4, 2, Leader, ChosenPrefix: 500),
        new TimeoutNow(2, 3, Leader),
    ];

    /// <summary>Every field, payload bytes included, so that equal renderings mean equal messages.</summary>
    public static string Describe(PaxosMessage m)
    {
        var head = $"{m.GetType().Name} {m.From}->{m.To} b={m.Ballot}";
        string body = m switch
        {
            Prepare p => $"from={p.FromSlot} pre={p.PreVote} transfer={(p.TransferFrom is { } t ? t.ToString() : "null")}",
            Promise p => $"pre={p.PreVote} granted={p.Granted} promised={p.Promised} from={p.FromSlot} " +
                         $"entries=[{string.Join(";", p.Entries.Select(Describe))}] prefix={p.ChosenPrefix} snap={p.SnapshotIndex}",
            Accept a => $"slots=[{string.Join(";", a.Slots.Select(Describe))}] tenure={a.TenureStart} below={a.ChosenBelow}",
            Accepted a => $"slots=[{string.Join(",", a.Slots)}] prefix={a.ChosenPrefix}",
            Rejected r => $"promised={r.Promised}",
            Heartbeat h => $"seq={h.Sequence} tenure={h.TenureStart} below={h.ChosenBelow} quiesce={h.Quiesce}",
            HeartbeatAck h => $"seq={h.Sequence} prefix={h.ChosenPrefix} seen={h.ChosenBelowSeen}",
            CatchUpRequest c => $"from={c.FromSlot}",
            ChosenValues c => $"slots=[{string.Join(";", c.Slots.Select(Describe))}]",
            InstallSnapshot s => Describe(s.Snapshot),
            CatchUpAck c => $"prefix={c.ChosenPrefix}",
            TimeoutNow => "",
            _ => throw new ArgumentException($"Describe does not know {m.GetType().Name}."),
        };
        return head + " " + body;
    }

    private static string Describe(LogEntry e) => $"{e.Slot}@{e.Ballot} chosen={e.Chosen} {Describe(e.Value)}";

    private static string Describe(ProposedSlot s) => $"{s.Slot}:{Describe(s.Value)}";

    private static string Describe(SlotValue v) => v.Kind switch
    {
        SlotValueKind.NoOp => "noop",
        SlotValueKind.Membership => $"{v.Change.Kind}({v.Change.ReplicaId})",
        _ => "cmds[" + string.Join(",", v.Commands.Select(c => $"{c.ClientId}:{c.Sequence}:{Convert.ToHexString(c.Payload.Span)}")) + "]",
    };

    private static string Describe(Snapshot s) =>
        $"index={s.Index} data={Convert.ToHexString(s.Data.Span)} configs=[" +
        string.Join(";", s.Configurations.Select(c => $"{c.FromSlot}/{c.DecidedAtSlot}/{c.Configuration}")) + "]";
}
