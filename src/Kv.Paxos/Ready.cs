namespace Kv.Paxos;

/// <summary>
/// The output of the steps since the last <see cref="Replica.TakeReady"/>. The host MUST handle it in this order:
/// <list type="number">
/// <item>it MAY send the first <see cref="EarlyMessageCount"/> of <see cref="Messages"/> at once (a leader's
/// Accepts: they do not depend on any write of this replica that is not yet reported durable, PAXOS.md §10);</item>
/// <item>make <see cref="HardState"/>, <see cref="Snapshot"/> and <see cref="Entries"/> durable (one atomic, synced
/// write) — or, when <see cref="MustSync"/> is false, write <see cref="HardState"/> without waiting for a sync, in
/// order before this replica's later writes (PAXOS.md §11) — then report it with
/// <see cref="Replica.Persisted"/>(<see cref="Sequence"/>);</item>
/// <item>only then send the rest of <see cref="Messages"/> (a reply may depend on a promise or an accept being durable);</item>
/// <item>install <see cref="SnapshotToApply"/>, then apply <see cref="Chosen"/> in order;</item>
/// <item>then answer <see cref="ReadsReady"/> from the state machine, and fail <see cref="ReadsFailed"/> and
/// <see cref="AbandonedProposals"/> back to their clients.</item>
/// </list>
/// Readies must be written and completed one after another: a later Ready's writes and late messages may rely on
/// an earlier Ready's writes. Only the early messages may overtake: a host may send them as soon as it takes the
/// Ready, even while earlier Readies are still being written. Sending early messages late is always allowed.
/// After <see cref="Replica.Persisted"/> the replica may have new output: take the next Ready.
/// </summary>
public sealed class Ready
{
    internal static readonly Ready Empty = new();

    /// <summary>New registers to persist, if they changed.</summary>
    public HardState? HardState { get; init; }

    /// <summary>
    /// Whether <see cref="HardState"/> raises the promise, which must be durable before any reply. A HardState that
    /// only advances the chosen prefix need not be synced: it is knowledge, not a vote (PAXOS.md §11).
    /// </summary>
    public bool HardStateMustSync { get; init; }

    /// <summary>A snapshot to persist; the log below its index is to be deleted.</summary>
    public Snapshot? Snapshot { get; init; }

    /// <summary>Log entries to persist, each replacing what is stored for its slot.</summary>
    public IReadOnlyList<LogEntry> Entries { get; init; } = [];

    /// <summary>
    /// This Ready's number: 1, 2, … in the order handed out by this replica object (0 for an empty Ready). The host
    /// reports durability by it (<see cref="Replica.Persisted"/>).
    /// </summary>
    public long Sequence { get; init; }

    /// <summary>
    /// Messages to send: the first <see cref="EarlyMessageCount"/> at once if the host likes, the others only once
    /// the writes above are durable.
    /// </summary>
    public IReadOnlyList<PaxosMessage> Messages { get; init; } = [];

    /// <summary>
    /// How many of the first <see cref="Messages"/> may be sent before this Ready's (and earlier Readies') writes are
    /// durable: a leader's Accepts at a ballot whose promise is already reported durable (PAXOS.md §10).
    /// </summary>
    public int EarlyMessageCount { get; init; }

    /// <summary>A snapshot to load into the state machine before applying <see cref="Chosen"/>.</summary>
    public Snapshot? SnapshotToApply { get; init; }

    /// <summary>Chosen values to apply, in slot order, each exactly once.</summary>
    public IReadOnlyList<ChosenEntry> Chosen { get; init; } = [];

    /// <summary>Reads that may now be answered from the state machine (after applying <see cref="Chosen"/>).</summary>
    public IReadOnlyList<ReadState> ReadsReady { get; init; } = [];

    /// <summary>Reads that cannot be served here (leadership lost); the client should retry elsewhere.</summary>
    public IReadOnlyList<long> ReadsFailed { get; init; } = [];

    /// <summary>Queued proposals dropped because leadership was lost; their outcome is "not proposed".</summary>
    public IReadOnlyList<Command> AbandonedProposals { get; init; } = [];

    /// <summary>Whether anything must be written durably before the late messages are sent and the chosen applied.</summary>
    public bool MustSync => HardStateMustSync || Snapshot is not null || Entries.Count > 0;

    /// <summary>Whether anything must be written at all (synced when <see cref="MustSync"/>, otherwise in order only).</summary>
    public bool MustWrite => MustSync || HardState is not null;

    /// <summary>Whether there is nothing to do.</summary>
    public bool IsEmpty => !MustWrite && Messages.Count == 0 && SnapshotToApply is null && Chosen.Count == 0
        && ReadsReady.Count == 0 && ReadsFailed.Count == 0 && AbandonedProposals.Count == 0;
}

/// <summary>A read that may be answered once the state machine has applied every slot below <see cref="Index"/>.</summary>
public readonly record struct ReadState(long ReadId, long Index);

/// <summary>The immediate answer to a proposal or a read request.</summary>
public enum RequestStatus
{
    /// <summary>Queued; the outcome comes through a later <see cref="Ready"/>.</summary>
    Accepted,
    /// <summary>This replica does not lead; see <see cref="Replica.LeaderHint"/>.</summary>
    NotLeader,
    /// <summary>Too much is queued; retry later.</summary>
    Busy,
    /// <summary>The request is not valid now (e.g. a membership change while another is pending).</summary>
    Refused,
}
