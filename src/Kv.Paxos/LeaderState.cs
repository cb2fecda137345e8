namespace Kv.Paxos;

/// <summary>What a leader tracks for one unchosen slot it proposed.</summary>
internal sealed class InflightSlot
{
    public InflightSlot(SlotValue value, long sentTick)
    {
        Value = value;
        LastSentTick = sentTick;
    }

    public SlotValue Value { get; }
    public long LastSentTick { get; set; }
    public List<int> AcceptedBy { get; } = new(5);

    /// <summary>
    /// The Ready that writes the leader's own acceptance, until the host reports it durable and it joins
    /// <see cref="AcceptedBy"/>; 0 when counted already (or not a voter). See PAXOS.md §10.
    /// </summary>
    public long OwnAcceptReady { get; set; }
}

/// <summary>What a leader knows of one peer.</summary>
internal sealed class PeerProgress
{
    public long ChosenPrefix { get; set; }
    public long AckedSequence { get; set; }
    public long LastAckTick { get; set; }
    public long CatchUpSentTick { get; set; } = long.MinValue / 2;
}

/// <summary>A read waiting for leadership confirmation and for the state machine to reach its index.</summary>
internal sealed record PendingRead(long ReadId, long Index, long SequenceNeeded);

/// <summary>A Phase 1 at the leader's own ballot for a configuration that takes effect inside its window.</summary>
internal sealed class Reprepare
{
    public Reprepare(long fromSlot, Configuration configuration, long sentTick)
    {
        FromSlot = fromSlot;
        Configuration = configuration;
        SentTick = sentTick;
    }

    public long FromSlot { get; }
    public Configuration Configuration { get; }
    public long SentTick { get; set; }
    public Dictionary<int, IReadOnlyList<LogEntry>> Promises { get; } = [];
}

/// <summary>The volatile state of a replica while it leads; discarded when it steps down.</summary>
internal sealed class LeaderState
{
    public LeaderState(Ballot ballot, long tenureStart, Configuration preparedConfiguration, long now)
    {
        Ballot = ballot;
        TenureStart = tenureStart;
        NextSlot = tenureStart;
        RecoveredEnd = tenureStart;
        PreparedConfiguration = preparedConfiguration;
        LastHeartbeatTick = now;
        LastQuorumCheckTick = now;
    }

    public Ballot Ballot { get; }

    /// <summary>The first slot this leader proposed in; from here on every slot it declares chosen was chosen at <see cref="Ballot"/>.</summary>
    public long TenureStart { get; }

    public long NextSlot { get; set; }

    /// <summary>Values that Phase 1 found for slots from <see cref="TenureStart"/> on; they are re-proposed before anything new.</summary>
    public Dictionary<long, LogEntry> Recovered { get; } = [];

    public long RecoveredEnd { get; set; }

    /// <summary>The configuration whose quorum promised; slots governed by another need a <see cref="Reprepare"/>.</summary>
    public Configuration PreparedConfiguration { get; set; }

    public Reprepare? Reprepare { get; set; }

    public Dictionary<long, InflightSlot> Inflight { get; } = [];

    public Dictionary<int, PeerProgress> Peers { get; } = [];

    public Queue<Command> Pending { get; } = new();

    public MembershipChange? PendingMembership { get; set; }

    /// <summary>No-ops are proposed up to here so that a chosen membership change takes effect without traffic.</summary>
    public long PadUntil { get; set; }

    public long HeartbeatSequence { get; set; }

    /// <summary>When each heartbeat round was sent, by sequence, for the lease; pruned below the confirmed round.</summary>
    public Dictionary<long, long> HeartbeatSentTick { get; } = [];

    public long ConfirmedSequence { get; set; }

    public long LeaseUntilTick { get; set; } = long.MinValue;

    /// <summary>Set when handing over: the successor may be elected before the lease would end.</summary>
    public bool LeaseRevoked { get; set; }

    public List<PendingRead> Reads { get; } = [];

    public bool ReadRoundRequested { get; set; }

    public long LastHeartbeatTick { get; set; }

    public long LastQuorumCheckTick { get; set; }

    /// <summary>Since when the group has been idle and caught up (for quiescing).</summary>
    public long QuietSinceTick { get; set; }

    public PeerProgress Peer(int id, long now)
    {
        if (!Peers.TryGetValue(id, out var p))
        {
            p = new PeerProgress { LastAckTick = now };
            Peers[id] = p;
        }
        return p;
    }

    public void OnMembershipChosen(long effectiveSlot) => PadUntil = Math.Max(PadUntil, effectiveSlot);
}
