namespace Kv.Paxos;

/// <summary>
/// A message between replicas of one group. <see cref="Ballot"/> is the sender's view: the ballot it
/// campaigns or leads with, or (in replies) the ballot being answered. Messages are immutable; a host may
/// deliver one any number of times, in any order, or never.
/// </summary>
public abstract record PaxosMessage(int From, int To, Ballot Ballot);

/// <summary>
/// Phase 1a for every slot from <see cref="FromSlot"/> on. With <see cref="PreVote"/> it only asks whether the
/// receiver would promise, changing no state, so that a replica that cannot win never raises ballots.
/// <see cref="TransferFrom"/> is set when the leader with that ballot handed over leadership.
/// </summary>
public sealed record Prepare(int From, int To, Ballot Ballot, long FromSlot, bool PreVote, Ballot? TransferFrom)
    : PaxosMessage(From, To, Ballot);

/// <summary>
/// Phase 1b. When <see cref="Granted"/>, carries every entry the acceptor holds from the requested slot on.
/// When refused, <see cref="Promised"/> tells the candidate what it must exceed.
/// </summary>
public sealed record Promise(
    int From, int To, Ballot Ballot, bool PreVote, bool Granted, Ballot Promised,
    long FromSlot, IReadOnlyList<LogEntry> Entries, long ChosenPrefix, long SnapshotIndex)
    : PaxosMessage(From, To, Ballot);

/// <summary>
/// Phase 2a for a run of slots, with the leader's learning information piggybacked: every slot in
/// [<see cref="TenureStart"/>, <see cref="ChosenBelow"/>) was chosen at this ballot.
/// </summary>
public sealed record Accept(int From, int To, Ballot Ballot, IReadOnlyList<ProposedSlot> Slots, long TenureStart, long ChosenBelow)
    : PaxosMessage(From, To, Ballot);

/// <summary>A proposed value for one slot.</summary>
public readonly record struct ProposedSlot(long Slot, SlotValue Value);

/// <summary>Phase 2b: the sender accepted these slots at this ballot.</summary>
public sealed record Accepted(int From, int To, Ballot Ballot, IReadOnlyList<long> Slots, long ChosenPrefix)
    : PaxosMessage(From, To, Ballot);

/// <summary>
/// Sent back when a message's ballot is below the receiver's promise: the sender has been superseded.
/// </summary>
public sealed record Rejected(int From, int To, Ballot Ballot, Ballot Promised) : PaxosMessage(From, To, Ballot);

/// <summary>
/// The leader's liveness and lease round. Carries the learning information of <see cref="Accept"/>;
/// <see cref="Sequence"/> is echoed so that the leader can tell which round a quorum confirmed. With
/// <see cref="Quiesce"/> it is the last one of an idle group: a follower that has learned everything stops
/// expecting heartbeats (PAXOS.md §8).
/// </summary>
public sealed record Heartbeat(int From, int To, Ballot Ballot, long Sequence, long TenureStart, long ChosenBelow, bool Quiesce = false)
    : PaxosMessage(From, To, Ballot);

/// <summary>The answer to a <see cref="Heartbeat"/>, with the sender's chosen prefix.</summary>
public sealed record HeartbeatAck(int From, int To, Ballot Ballot, long Sequence, long ChosenPrefix, long ChosenBelowSeen)
    : PaxosMessage(From, To, Ballot);

/// <summary>Asks a peer for the chosen values (or a snapshot) from <see cref="FromSlot"/> on.</summary>
public sealed record CatchUpRequest(int From, int To, Ballot Ballot, long FromSlot) : PaxosMessage(From, To, Ballot);

/// <summary>Values known to be chosen, sent to a replica that lags.</summary>
public sealed record ChosenValues(int From, int To, Ballot Ballot, IReadOnlyList<ProposedSlot> Slots) : PaxosMessage(From, To, Ballot);

/// <summary>A snapshot for a replica that lags behind the sender's compacted log.</summary>
public sealed record InstallSnapshot(int From, int To, Ballot Ballot, Snapshot Snapshot) : PaxosMessage(From, To, Ballot);

/// <summary>The receiver's chosen prefix after a catch-up message.</summary>
public sealed record CatchUpAck(int From, int To, Ballot Ballot, long ChosenPrefix) : PaxosMessage(From, To, Ballot);

/// <summary>The leader hands over: the receiver should campaign at once, with the leader's blessing.</summary>
public sealed record TimeoutNow(int From, int To, Ballot Ballot) : PaxosMessage(From, To, Ballot);
