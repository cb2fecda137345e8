namespace Kv.Paxos;

/// <summary>What a slot holds: a gap-filling no-op, a batch of client commands, or one membership change.</summary>
public enum SlotValueKind
{
    /// <summary>Fills a gap a new leader found; applies nothing.</summary>
    NoOp,
    /// <summary>A batch of client commands, applied in order.</summary>
    Commands,
    /// <summary>A membership change that governs slots from this slot + α on.</summary>
    Membership,
}

/// <summary>
/// The value proposed for, accepted in and chosen for one slot. Immutable, so one instance can sit in the
/// leader's log, in every Accept message and in every simulated replica without copies.
/// </summary>
public sealed class SlotValue
{
    /// <summary>The shared no-op value.</summary>
    public static readonly SlotValue NoOp = new(SlotValueKind.NoOp, [], default);

    private SlotValue(SlotValueKind kind, Command[] commands, MembershipChange change)
    {
        Kind = kind;
        Commands = commands;
        Change = change;
    }

    /// <summary>Which kind of value this is.</summary>
    public SlotValueKind Kind { get; }

    /// <summary>The commands of a <see cref="SlotValueKind.Commands"/> value; empty otherwise.</summary>
    public IReadOnlyList<Command> Commands { get; }

    /// <summary>The change of a <see cref="SlotValueKind.Membership"/> value.</summary>
    public MembershipChange Change { get; }

    /// <summary>A batch of commands; the array is owned by the value from now on.</summary>
    public static SlotValue OfCommands(Command[] commands) =>
        commands.Length == 0 ? NoOp : new SlotValue(SlotValueKind.Commands, commands, default);

    /// <summary>A membership change.</summary>
    public static SlotValue OfMembership(MembershipChange change) => new(SlotValueKind.Membership, [], change);

    /// <summary>Structural equality, used by checkers and by assertions on chosen values.</summary>
    public bool ContentEquals(SlotValue other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (Kind != other.Kind || Change != other.Change || Commands.Count != other.Commands.Count) return false;
        for (int i = 0; i < Commands.Count; i++)
            if (!Commands[i].ContentEquals(other.Commands[i])) return false;
        return true;
    }

    /// <summary>Approximate encoded size, for batching limits.</summary>
    public int SizeBytes
    {
        get
        {
            int size = 16;
            foreach (var c in Commands) size += 16 + c.Payload.Length;
            return size;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        SlotValueKind.NoOp => "noop",
        SlotValueKind.Membership => $"{Change.Kind}({Change.ReplicaId})",
        _ => $"cmds[{string.Join(",", Commands.Select(c => $"{c.ClientId}:{c.Sequence}"))}]",
    };
}
