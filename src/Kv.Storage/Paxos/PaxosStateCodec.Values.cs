using Kv.Paxos;

namespace Kv.Storage.Paxos;

// The parts of values: ballots, slot values and configurations. Enum values are mapped to explicit codes,
// so reordering an enum in Kv.Paxos cannot silently change what stored bytes mean.
public static partial class PaxosStateCodec
{
    private const byte NoOpCode = 0;
    private const byte CommandsCode = 1;
    private const byte MembershipCode = 2;

    private const byte AddLearnerCode = 0;
    private const byte PromoteLearnerCode = 1;
    private const byte RemoveCode = 2;

    private const int CommandBytesMin = 8 + 8 + 4;
    private const int ConfigHistoryEntryBytesMin = 8 + 8 + 4 + 4;

    private static void WriteBallot(ref ValueWriter writer, Ballot ballot)
    {
        writer.WriteInt64(ballot.Round);
        writer.WriteInt32(ballot.ReplicaId);
    }

    private static Ballot ReadBallot(ref ValueReader reader)
    {
        long round = reader.ReadInt64();
        int replicaId = reader.ReadInt32();
        if (round < 0 || replicaId < 0) throw new InvalidDataException($"invalid ballot {round}.{replicaId}");
        return new Ballot(round, replicaId);
    }

    private static int SlotValueSize(SlotValue value)
    {
        int size = 1;
        switch (value.Kind)
        {
            case SlotValueKind.Commands:
                size += 4;
                foreach (var command in value.Commands) size += CommandBytesMin + command.Payload.Length;
                break;
            case SlotValueKind.Membership:
                size += 1 + 4;
                break;
        }
        return size;
    }

    private static void WriteSlotValue(ref ValueWriter writer, SlotValue value)
    {
        switch (value.Kind)
        {
            case SlotValueKind.NoOp:
                writer.WriteByte(NoOpCode);
                break;
            case SlotValueKind.Commands:
                writer.WriteByte(CommandsCode);
                writer.WriteInt32(value.Commands.Count);
                foreach (var command in value.Commands)
                {
                    writer.WriteInt64(command.ClientId);
                    writer.WriteInt64(command.Sequence);
                    writer.WriteInt32(command.Payload.Length);
                    writer.WriteBytes(command.Payload.Span);
                }
                break;
            case SlotValueKind.Membership:
                writer.WriteByte(MembershipCode);
                writer.WriteByte(value.Change.Kind switch
                {
                    MembershipChangeKind.AddLearner => AddLearnerCode,
                    MembershipChangeKind.PromoteLearner => PromoteLearnerCode,
                    MembershipChangeKind.Remove => RemoveCode,
                    _ => throw new ArgumentException($"Unknown membership change kind {value.Change.Kind}.", nameof(value)),
                });
                writer.WriteInt32(value.Change.ReplicaId);
                break;
            default:
                throw new ArgumentException($"Unknown slot value kind {value.Kind}.", nameof(value));
        }
    }

    // Command payloads slice `whole` (the buffer the reader reads) instead of being copied.
    private static SlotValue ReadSlotValue(ref ValueReader reader, ReadOnlyMemory<byte> whole)
    {
        byte kind = reader.ReadByte();
        switch (kind)
        {
            case NoOpCode:
                return SlotValue.NoOp;
            case CommandsCode:
                int count = reader.ReadCount(CommandBytesMin);
                if (count == 0) throw new InvalidDataException("a command batch without commands");
                var commands = new Command[count];
                for (int i = 0; i < count; i++)
                {
                    long clientId = reader.ReadInt64();
                    long sequence = reader.ReadInt64();
                    int length = reader.ReadCount(1);
                    int start = reader.Skip(length);
                    commands[i] = new Command(clientId, sequence, whole.Slice(start, length));
                }
                return SlotValue.OfCommands(commands);
            case MembershipCode:
                var changeKind = reader.ReadByte() switch
                {
                    AddLearnerCode => MembershipChangeKind.AddLearner,
                    PromoteLearnerCode => MembershipChangeKind.PromoteLearner,
                    RemoveCode => MembershipChangeKind.Remove,
                    var other => throw new InvalidDataException($"unknown membership change code {other}"),
                };
                return SlotValue.OfMembership(new MembershipChange(changeKind, reader.ReadInt32()));
            default:
                throw new InvalidDataException($"unknown slot value code {kind}");
        }
    }

    private static int ConfigHistoryEntrySize(ConfigHistoryEntry entry) =>
        ConfigHistoryEntryBytesMin + 4 * (entry.Configuration.Voters.Count + entry.Configuration.Learners.Count);

    private static void WriteConfigHistoryEntry(ref ValueWriter writer, ConfigHistoryEntry entry)
    {
        writer.WriteInt64(entry.FromSlot);
        writer.WriteInt64(entry.DecidedAtSlot);
        writer.WriteInt32(entry.Configuration.Voters.Count);
        foreach (int voter in entry.Configuration.Voters) writer.WriteInt32(voter);
        writer.WriteInt32(entry.Configuration.Learners.Count);
        foreach (int learner in entry.Configuration.Learners) writer.WriteInt32(learner);
    }

    private static ConfigHistoryEntry ReadConfigHistoryEntry(ref ValueReader reader)
    {
        long fromSlot = reader.ReadInt64();
        long decidedAtSlot = reader.ReadInt64();
        var voters = new int[reader.ReadCount(4)];
        for (int i = 0; i < voters.Length; i++) voters[i] = reader.ReadInt32();
        var learners = new int[reader.ReadCount(4)];
        for (int i = 0; i < learners.Length; i++) learners[i] = reader.ReadInt32();
        try
        {
            return new ConfigHistoryEntry(fromSlot, decidedAtSlot, new Configuration(voters, learners));
        }
        catch (ArgumentException e)
        {
            // The bytes passed their checksum but describe no valid configuration: still corruption to us.
            throw new InvalidDataException($"invalid configuration: {e.Message}", e);
        }
    }
}
