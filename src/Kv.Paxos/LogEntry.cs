namespace Kv.Paxos;

/// <summary>
/// An acceptor's record for one slot: the value it accepted and at which ballot, or a value it knows is chosen.
/// A chosen entry may have <see cref="Ballot.Zero"/> when it was learned from a peer rather than accepted.
/// </summary>
public readonly record struct LogEntry(long Slot, Ballot Ballot, SlotValue Value, bool Chosen);

/// <summary>A chosen value handed to the state machine, in slot order, exactly once per incarnation.</summary>
public readonly record struct ChosenEntry(long Slot, SlotValue Value);
