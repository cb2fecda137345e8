namespace Kv.Paxos;

/// <summary>Tuning of one replica. Every limit is named and bounded; times are in ticks of the host's clock.</summary>
public sealed record ReplicaOptions
{
    /// <summary>This replica's id within the group; positive.</summary>
    public required int ReplicaId { get; init; }

    /// <summary>
    /// A follower that has heard no leader for this many ticks may campaign (after a random extra of up to the
    /// same again), and a replica that heard a leader within it refuses to promise to anyone else.
    /// </summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    /// <summary>How often a leader sends heartbeats.</summary>
    public int HeartbeatIntervalTicks { get; init; } = 2;

    /// <summary>
    /// The bound ρ on clock drift: every replica's tick rate is within (1 ± ρ) of real time. The lease is
    /// shortened by (1 − ρ)/(1 + ρ) so that it ends before any follower can promise to a new leader (PAXOS.md §5).
    /// </summary>
    public double ClockDriftBound { get; init; } = 0.1;

    /// <summary>Leases are served only with this margin of ticks to spare, for tick granularity.</summary>
    public int LeaseMarginTicks { get; init; } = 1;

    /// <summary>Whether the leader serves reads under its lease (otherwise always a read-index round).</summary>
    public bool LeaseReadsEnabled { get; init; } = true;

    /// <summary>
    /// α: the most slots a leader has in flight beyond the chosen prefix. A membership change chosen at slot s
    /// governs slots from s + α on, so the leader always knows the configuration of the slots it proposes in.
    /// </summary>
    public int InflightSlotsMax { get; init; } = 64;

    /// <summary>The most commands batched into one slot.</summary>
    public int BatchCommandsMax { get; init; } = 1024;

    /// <summary>The most payload bytes batched into one slot.</summary>
    public int BatchBytesMax { get; init; } = 1 << 20;

    /// <summary>The most proposals queued at the leader while the window is full; more are refused as busy.</summary>
    public int PendingProposalsMax { get; init; } = 100_000;

    /// <summary>The most slots carried by one Accept message.</summary>
    public int AcceptSlotsPerMessageMax { get; init; } = 64;

    /// <summary>
    /// The most value bytes in one Accept or catch-up message (beyond its first slot, which always goes), so that
    /// a transport with a message-size limit can carry every message.
    /// </summary>
    public int MessageValueBytesMax { get; init; } = 8 << 20;

    /// <summary>The most chosen slots sent in one catch-up message.</summary>
    public int CatchUpSlotsPerMessageMax { get; init; } = 256;

    /// <summary>An unacknowledged Accept is sent again after this many ticks.</summary>
    public int RetransmitTicks { get; init; } = 4;

    /// <summary>A learner may be promoted only when it is at most this many slots behind the leader.</summary>
    public int LearnerPromotionLagSlotsMax { get; init; } = 32;

    /// <summary>Outstanding read requests at the leader; more are refused as busy.</summary>
    public int PendingReadsMax { get; init; } = 100_000;

    /// <summary>
    /// A leader whose group has been idle and fully caught up for this many ticks quiesces it (PAXOS.md §8);
    /// 0 never quiesces.
    /// </summary>
    public int QuiesceAfterTicks { get; init; }

    /// <summary>
    /// Whether a leader's Accepts may leave before its own write of the same slots is durable (the Ready's early
    /// messages), in parallel with that write; the leader then counts its own acceptance only once the host reports
    /// the write with <see cref="Replica.Persisted"/> (PAXOS.md §10). Off: every message waits for the write, and the
    /// leader counts itself at once. Either way a host must call <see cref="Replica.Persisted"/> after each write.
    /// </summary>
    public bool LeaderAcceptsBeforeDurable { get; init; } = true;

    /// <summary>Deliberate protocol bugs, for proving that the checkers catch them. Never set outside tests.</summary>
    internal ProtocolMutation Mutation { get; init; } = ProtocolMutation.None;

    /// <summary>Lease length in ticks: the election timeout shortened by the drift bound and the margin.</summary>
    public long LeaseTicks => Mutation == ProtocolMutation.LeaseWithoutDriftBound
        ? ElectionTimeoutTicks
        : (long)Math.Floor(ElectionTimeoutTicks * (1 - ClockDriftBound) / (1 + ClockDriftBound)) - LeaseMarginTicks;

    /// <summary>Throws on options that would make the protocol unsafe or stuck.</summary>
    public void Validate()
    {
        if (ReplicaId <= 0) throw new ArgumentOutOfRangeException(nameof(ReplicaId), "Replica ids are positive.");
        if (ElectionTimeoutTicks < 2) throw new ArgumentOutOfRangeException(nameof(ElectionTimeoutTicks));
        if (HeartbeatIntervalTicks < 1 || HeartbeatIntervalTicks >= ElectionTimeoutTicks)
            throw new ArgumentOutOfRangeException(nameof(HeartbeatIntervalTicks), "Heartbeats must come more often than the election timeout.");
        if (ClockDriftBound is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(ClockDriftBound));
        if (InflightSlotsMax < 1 || BatchCommandsMax < 1 || AcceptSlotsPerMessageMax < 1 || CatchUpSlotsPerMessageMax < 1)
            throw new ArgumentOutOfRangeException(nameof(InflightSlotsMax), "Windows and batches hold at least one.");
        if (QuiesceAfterTicks < 0) throw new ArgumentOutOfRangeException(nameof(QuiesceAfterTicks), "0 (never) or more.");
    }
}

/// <summary>Deliberately broken protocol variants that the simulator's checkers must catch.</summary>
internal enum ProtocolMutation
{
    None,
    /// <summary>Phase 2 proposes the leader's own value instead of the highest-ballot value among the promises.</summary>
    ProposeOwnValue,
    /// <summary>The lease lasts the whole election timeout, ignoring clock drift.</summary>
    LeaseWithoutDriftBound,
    /// <summary>A quiescing leader keeps its lease, so it outlives the quiet spell its host did not tick through.</summary>
    QuiesceKeepsLease,
    /// <summary>The leader sends its Accepts before its own write is durable but counts its own acceptance at once.</summary>
    LeaderCountsSelfBeforeDurable,
    /// <summary>A raised promise is classed like a chosen-prefix advance: written without a sync before the Promise leaves.</summary>
    PromiseWithoutSync,
}
