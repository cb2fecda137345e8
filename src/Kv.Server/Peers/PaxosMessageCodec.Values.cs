using Google.Protobuf;
using Kv.Paxos;
using PaxosConfiguration = Kv.Paxos.Configuration;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>The parts of messages: ballots, slot values, log entries, snapshots, and the field checks.</summary>
public static partial class PaxosMessageCodec
{
    private static Wire.Ballot ToProto(Ballot b) => new() { Round = b.Round, ReplicaId = b.ReplicaId };

    private static Ballot FromProto(Wire.Ballot? b, string field)
    {
        if (b is null) throw new InvalidDataException($"Paxos message lacks {field}.");
        // Ballot.Zero (0, 0) is legal; real ballots have a positive round and owner.
        return new Ballot(NonNegative(b.Round, field + ".round"), (int)NonNegative(b.ReplicaId, field + ".replica_id"));
    }

    private static Wire.ProposedSlot ToProto(ProposedSlot s) => new() { Slot = s.Slot, Value = ToProto(s.Value) };

    private static ProposedSlot FromProto(Wire.ProposedSlot s, string field) =>
        new(Slot(s.Slot, field + ".slot"), FromProto(s.Value, field + ".value"));

    private static Wire.LogEntry ToProto(LogEntry e) =>
        new() { Slot = e.Slot, Ballot = ToProto(e.Ballot), Value = ToProto(e.Value), Chosen = e.Chosen };

    private static LogEntry FromProto(Wire.LogEntry e) => new(
        Slot(e.Slot, "promise.entries.slot"), FromProto(e.Ballot, "promise.entries.ballot"),
        FromProto(e.Value, "promise.entries.value"), e.Chosen);

    private static Wire.SlotValue ToProto(SlotValue v)
    {
        var p = new Wire.SlotValue();
        switch (v.Kind)
        {
            case SlotValueKind.NoOp:
                p.Kind = Wire.SlotValue.Types.Kind.NoOp;
                break;
            case SlotValueKind.Commands:
                p.Kind = Wire.SlotValue.Types.Kind.Commands;
                foreach (var c in v.Commands)
                {
                    // Slot values are immutable (SlotValue.cs), so the payload can be wrapped rather than copied;
                    // it is only read when the batch is serialized.
                    p.Commands.Add(new Wire.PaxosCommand
                    {
                        ClientId = c.ClientId, Sequence = c.Sequence, Payload = UnsafeByteOperations.UnsafeWrap(c.Payload),
                    });
                }
                break;
            case SlotValueKind.Membership:
                p.Kind = Wire.SlotValue.Types.Kind.Membership;
                p.Change = new Wire.MembershipChange { Kind = ToProto(v.Change.Kind), ReplicaId = v.Change.ReplicaId };
                break;
            default:
                throw new ArgumentException($"Unknown slot value kind {v.Kind}.", nameof(v));
        }
        return p;
    }

    private static SlotValue FromProto(Wire.SlotValue? v, string field)
    {
        if (v is null) throw new InvalidDataException($"Paxos message lacks {field}.");
        switch (v.Kind)
        {
            case Wire.SlotValue.Types.Kind.NoOp:
                if (v.Commands.Count > 0 || v.Change is not null)
                    throw new InvalidDataException($"{field} is a no-op but carries commands or a membership change.");
                return SlotValue.NoOp;
            case Wire.SlotValue.Types.Kind.Commands:
                // The encoder never writes an empty batch: SlotValue.OfCommands turns one into a no-op.
                if (v.Commands.Count == 0) throw new InvalidDataException($"{field} is a command batch without commands.");
                if (v.Change is not null) throw new InvalidDataException($"{field} is a command batch but carries a membership change.");
                var commands = new Command[v.Commands.Count];
                for (int i = 0; i < commands.Length; i++)
                {
                    var c = v.Commands[i];
                    // ByteString.Memory aliases the parsed (already copied) buffer: no second copy.
                    commands[i] = new Command(c.ClientId, c.Sequence, c.Payload.Memory);
                }
                return SlotValue.OfCommands(commands);
            case Wire.SlotValue.Types.Kind.Membership:
                if (v.Change is null) throw new InvalidDataException($"{field} is a membership change without the change.");
                if (v.Commands.Count > 0) throw new InvalidDataException($"{field} is a membership change but carries commands.");
                // A non-positive replica id would make Configuration.Apply throw inside the replica.
                int replicaId = ReplicaId(v.Change.ReplicaId, field + ".change.replica_id");
                return SlotValue.OfMembership(new MembershipChange(FromProto(v.Change.Kind, field + ".change.kind"), replicaId));
            default:
                throw new InvalidDataException($"{field} has an unknown kind {(int)v.Kind}.");
        }
    }

    private static Wire.MembershipChange.Types.Kind ToProto(MembershipChangeKind kind) => kind switch
    {
        MembershipChangeKind.AddLearner => Wire.MembershipChange.Types.Kind.AddLearner,
        MembershipChangeKind.PromoteLearner => Wire.MembershipChange.Types.Kind.PromoteLearner,
        MembershipChangeKind.Remove => Wire.MembershipChange.Types.Kind.Remove,
        _ => throw new ArgumentException($"Unknown membership change kind {kind}.", nameof(kind)),
    };

    private static MembershipChangeKind FromProto(Wire.MembershipChange.Types.Kind kind, string field) => kind switch
    {
        Wire.MembershipChange.Types.Kind.AddLearner => MembershipChangeKind.AddLearner,
        Wire.MembershipChange.Types.Kind.PromoteLearner => MembershipChangeKind.PromoteLearner,
        Wire.MembershipChange.Types.Kind.Remove => MembershipChangeKind.Remove,
        _ => throw new InvalidDataException($"{field} has an unknown value {(int)kind}."),
    };

    private static Wire.Snapshot ToProto(Snapshot s)
    {
        var p = new Wire.Snapshot { Index = s.Index, Data = UnsafeByteOperations.UnsafeWrap(s.Data) };
        foreach (var c in s.Configurations)
        {
            var entry = new Wire.ConfigHistoryEntry { FromSlot = c.FromSlot, DecidedAtSlot = c.DecidedAtSlot };
            entry.Voters.AddRange(c.Configuration.Voters);
            entry.Learners.AddRange(c.Configuration.Learners);
            p.Configurations.Add(entry);
        }
        return p;
    }

    private static Snapshot FromProto(Wire.Snapshot? s)
    {
        const string field = "install_snapshot.snapshot";
        if (s is null) throw new InvalidDataException($"Paxos message lacks {field}.");
        long index = Slot(s.Index, field + ".index");
        // Every snapshot past genesis carries the configuration in force at its index (ConfigHistory.ForSnapshot);
        // without one, a replica installing it would have no configuration at all.
        if (index > 0 && s.Configurations.Count == 0)
            throw new InvalidDataException($"{field} at index {index} carries no configuration.");
        var configurations = new ConfigHistoryEntry[s.Configurations.Count];
        for (int i = 0; i < configurations.Length; i++)
        {
            var c = s.Configurations[i];
            PaxosConfiguration configuration;
            try
            {
                configuration = new PaxosConfiguration(c.Voters, c.Learners);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{field}.configurations[{i}] is invalid: {e.Message}", e);
            }
            long decidedAt = c.DecidedAtSlot >= -1 ? c.DecidedAtSlot
                : throw new InvalidDataException($"{field}.configurations[{i}].decided_at_slot is {c.DecidedAtSlot}; the least is -1 (genesis).");
            configurations[i] = new ConfigHistoryEntry(Slot(c.FromSlot, $"{field}.configurations[{i}].from_slot"), decidedAt, configuration);
        }
        return new Snapshot(index, configurations, s.Data.Memory);
    }

    private static int ReplicaId(int value, string field) =>
        value > 0 ? value : throw new InvalidDataException($"{field} is {value}; replica ids are positive.");

    private static long Slot(long value, string field) =>
        value >= 0 ? value : throw new InvalidDataException($"{field} is {value}; slots are never negative.");

    private static long NonNegative(long value, string field) =>
        value >= 0 ? value : throw new InvalidDataException($"{field} is {value}; it is never negative.");

    // A replica reports a chosen prefix of -1 while it joins (Replica.ReportedChosenPrefix); nothing lower exists.
    private static long ReportedPrefix(long value, string field) =>
        value >= -1 ? value : throw new InvalidDataException($"{field} is {value}; the least is -1 (joining).");
}
