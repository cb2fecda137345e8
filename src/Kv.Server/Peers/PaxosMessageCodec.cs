using Kv.Paxos;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// Converts <see cref="Kv.Paxos.PaxosMessage"/>s to and from their wire form (<c>proto/kv/v1/peer.proto</c>),
/// losslessly. Decoding validates what the replica relies on (a body, a ballot, non-negative slots, known enum
/// values, well-formed configurations), so that bad input from a peer fails here with an
/// <see cref="InvalidDataException"/> instead of inside a replica.
/// </summary>
public static partial class PaxosMessageCodec
{
    /// <summary>The wire form of <paramref name="message"/>, addressed to group <paramref name="groupId"/>.</summary>
    /// <exception cref="ArgumentException">The message is of a type this codec does not know.</exception>
    public static Wire.PaxosMessage ToProto(ulong groupId, PaxosMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var p = new Wire.PaxosMessage { GroupId = groupId, From = message.From, To = message.To, Ballot = ToProto(message.Ballot) };
        switch (message)
        {
            case Prepare m:
                p.Prepare = new Wire.Prepare
                {
                    FromSlot = m.FromSlot, PreVote = m.PreVote,
                    TransferFrom = m.TransferFrom is { } transferFrom ? ToProto(transferFrom) : null,
                };
                break;
            case Promise m:
                var promise = new Wire.Promise
                {
                    PreVote = m.PreVote, Granted = m.Granted, Promised = ToProto(m.Promised), FromSlot = m.FromSlot,
                    ChosenPrefix = m.ChosenPrefix, SnapshotIndex = m.SnapshotIndex,
                };
                foreach (var e in m.Entries) promise.Entries.Add(ToProto(e));
                p.Promise = promise;
                break;
            case Accept m:
                var accept = new Wire.Accept { TenureStart = m.TenureStart, ChosenBelow = m.ChosenBelow };
                foreach (var s in m.Slots) accept.Slots.Add(ToProto(s));
                p.Accept = accept;
                break;
            case Accepted m:
                var accepted = new Wire.Accepted { ChosenPrefix = m.ChosenPrefix };
                accepted.Slots.AddRange(m.Slots);
                p.Accepted = accepted;
                break;
            case Rejected m:
                p.Rejected = new Wire.Rejected { Promised = ToProto(m.Promised) };
                break;
            case Heartbeat m:
                p.Heartbeat = new Wire.Heartbeat { Sequence = m.Sequence, TenureStart = m.TenureStart, ChosenBelow = m.ChosenBelow, Quiesce = m.Quiesce };
                break;
            case HeartbeatAck m:
                p.HeartbeatAck = new Wire.HeartbeatAck
                {
                    Sequence = m.Sequence, ChosenPrefix = m.ChosenPrefix, ChosenBelowSeen = m.ChosenBelowSeen,
                };
                break;
            case CatchUpRequest m:
                p.CatchUpRequest = new Wire.CatchUpRequest { FromSlot = m.FromSlot };
                break;
            case ChosenValues m:
                var chosen = new Wire.ChosenValues();
                foreach (var s in m.Slots) chosen.Slots.Add(ToProto(s));
                p.ChosenValues = chosen;
                break;
            case InstallSnapshot m:
                p.InstallSnapshot = new Wire.InstallSnapshot { Snapshot = ToProto(m.Snapshot) };
                break;
            case CatchUpAck m:
                p.CatchUpAck = new Wire.CatchUpAck { ChosenPrefix = m.ChosenPrefix };
                break;
            case TimeoutNow:
                p.TimeoutNow = new Wire.TimeoutNow();
                break;
            default:
                throw new ArgumentException($"No wire form for Paxos message type {message.GetType().Name}.", nameof(message));
        }
        return p;
    }

    /// <summary>The group id and the Paxos message carried by <paramref name="p"/>.</summary>
    /// <exception cref="InvalidDataException">The message is malformed; the text says which field.</exception>
    public static (ulong GroupId, PaxosMessage Message) FromProto(Wire.PaxosMessage p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int from = ReplicaId(p.From, "from");
        int to = ReplicaId(p.To, "to");
        var ballot = FromProto(p.Ballot, "ballot");
        PaxosMessage message = p.BodyCase switch
        {
            Wire.PaxosMessage.BodyOneofCase.Prepare => new Prepare(
                from, to, ballot, Slot(p.Prepare.FromSlot, "prepare.from_slot"), p.Prepare.PreVote,
                p.Prepare.TransferFrom is null ? null : FromProto(p.Prepare.TransferFrom, "prepare.transfer_from")),
            Wire.PaxosMessage.BodyOneofCase.Promise => new Promise(
                from, to, ballot, p.Promise.PreVote, p.Promise.Granted, FromProto(p.Promise.Promised, "promise.promised"),
                Slot(p.Promise.FromSlot, "promise.from_slot"),
                p.Promise.Entries.Select(e => FromProto(e)).ToArray(),
                Slot(p.Promise.ChosenPrefix, "promise.chosen_prefix"),
                Slot(p.Promise.SnapshotIndex, "promise.snapshot_index")),
            Wire.PaxosMessage.BodyOneofCase.Accept => new Accept(
                from, to, ballot, p.Accept.Slots.Select(s => FromProto(s, "accept.slots")).ToArray(),
                Slot(p.Accept.TenureStart, "accept.tenure_start"), Slot(p.Accept.ChosenBelow, "accept.chosen_below")),
            Wire.PaxosMessage.BodyOneofCase.Accepted => new Accepted(
                from, to, ballot, p.Accepted.Slots.Select(s => Slot(s, "accepted.slots")).ToArray(),
                ReportedPrefix(p.Accepted.ChosenPrefix, "accepted.chosen_prefix")),
            Wire.PaxosMessage.BodyOneofCase.Rejected => new Rejected(
                from, to, ballot, FromProto(p.Rejected.Promised, "rejected.promised")),
            Wire.PaxosMessage.BodyOneofCase.Heartbeat => new Heartbeat(
                from, to, ballot, NonNegative(p.Heartbeat.Sequence, "heartbeat.sequence"),
                Slot(p.Heartbeat.TenureStart, "heartbeat.tenure_start"), Slot(p.Heartbeat.ChosenBelow, "heartbeat.chosen_below"), p.Heartbeat.Quiesce),
            Wire.PaxosMessage.BodyOneofCase.HeartbeatAck => new HeartbeatAck(
                from, to, ballot, NonNegative(p.HeartbeatAck.Sequence, "heartbeat_ack.sequence"),
                ReportedPrefix(p.HeartbeatAck.ChosenPrefix, "heartbeat_ack.chosen_prefix"),
                Slot(p.HeartbeatAck.ChosenBelowSeen, "heartbeat_ack.chosen_below_seen")),
            Wire.PaxosMessage.BodyOneofCase.CatchUpRequest => new CatchUpRequest(
                from, to, ballot, ReportedPrefix(p.CatchUpRequest.FromSlot, "catch_up_request.from_slot")),
            Wire.PaxosMessage.BodyOneofCase.ChosenValues => new ChosenValues(
                from, to, ballot, p.ChosenValues.Slots.Select(s => FromProto(s, "chosen_values.slots")).ToArray()),
            Wire.PaxosMessage.BodyOneofCase.InstallSnapshot => new InstallSnapshot(
                from, to, ballot, FromProto(p.InstallSnapshot.Snapshot)),
            Wire.PaxosMessage.BodyOneofCase.CatchUpAck => new CatchUpAck(
                from, to, ballot, ReportedPrefix(p.CatchUpAck.ChosenPrefix, "catch_up_ack.chosen_prefix")),
            Wire.PaxosMessage.BodyOneofCase.TimeoutNow => new TimeoutNow(from, to, ballot),
            Wire.PaxosMessage.BodyOneofCase.None => throw new InvalidDataException("Paxos message has no body."),
            _ => throw new InvalidDataException($"Paxos message has an unknown body case {(int)p.BodyCase}."),
        };
        return (p.GroupId, message);
    }
}
