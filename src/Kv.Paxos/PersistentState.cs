namespace Kv.Paxos;

/// <summary>The promise and the chosen frontier: the small registers written on (almost) every step.</summary>
/// <param name="Promised">The highest ballot this acceptor promised; never decreases.</param>
/// <param name="ChosenPrefix">Every slot below it is known chosen (a hint that saves re-learning; never decreases).</param>
public readonly record struct HardState(Ballot Promised, long ChosenPrefix);

/// <summary>
/// What a replica reads back from durable storage when it restarts: its registers, its latest snapshot and
/// every log entry at or above the snapshot index.
/// </summary>
public sealed record PersistentState(HardState HardState, Snapshot Snapshot, IReadOnlyList<LogEntry> Entries)
{
    /// <summary>The state of a replica of a new group.</summary>
    public static PersistentState Bootstrap(Configuration configuration) =>
        new(new HardState(Ballot.Zero, 0), Snapshot.Genesis(configuration), []);

    /// <summary>
    /// The state of a replica joining an existing group: it knows nothing yet and receives a snapshot from
    /// the leader once the group has added it as a learner.
    /// </summary>
    public static PersistentState Joining() =>
        new(new HardState(Ballot.Zero, 0), new Snapshot(0, [], ReadOnlyMemory<byte>.Empty), []);
}
