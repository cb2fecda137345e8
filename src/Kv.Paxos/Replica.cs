namespace Kv.Paxos;

/// <summary>The part a replica currently plays.</summary>
public enum ReplicaRole
{
    /// <summary>Accepts what a leader proposes; campaigns after the election timeout if it votes.</summary>
    Follower,
    /// <summary>Asking voters whether they would promise (pre-vote), or collecting promises.</summary>
    Candidate,
    /// <summary>Holds a quorum of promises for its ballot; proposes, learns and serves reads.</summary>
    Leader,
}

/// <summary>
/// One replica of one Multi-Paxos group, as a deterministic state machine: it takes messages
/// (<see cref="Step"/>), ticks (<see cref="Tick"/>), proposals (<see cref="Propose"/>) and read requests
/// (<see cref="RequestRead"/>), and hands back through <see cref="TakeReady"/> what to persist, then send, then
/// apply. It owns no thread, clock, socket, disk or randomness of its own; see PAXOS.md for the protocol.
/// </summary>
public sealed partial class Replica
{
    private readonly ReplicaOptions _options;
    private readonly Random _random;

    // Durable registers, mirrored here; every change is emitted through the next Ready.
    private Ballot _promised;
    private long _chosenPrefix;
    private Snapshot _snapshot;
    private readonly SlotLog _log;
    private ConfigHistory? _configs; // null only on a joining replica that has not received a snapshot yet

    // Volatile state, rebuilt after a restart.
    private long _now;
    private long _appliedUpTo;
    private ReplicaRole _role;
    private Ballot _maxSeen;
    private long _lastHeardLeaderTick;
    private Ballot _heardLeaderBallot;
    private int? _leaderHint;
    private long _randomizedElectionTimeout;
    private Campaign? _campaign;
    private LeaderState? _leader;

    // Output accumulated for the next Ready.
    private HardState _persistedHardState;
    private List<LogEntry>? _outEntries;
    private Snapshot? _outSnapshot;
    private Snapshot? _outSnapshotToApply;
    private List<PaxosMessage>? _outMessages;
    private List<PaxosMessage>? _outEarlyMessages; // may leave before the Ready's writes are durable (§10)
    private List<ReadState>? _outReadsReady;
    private List<long>? _outReadsFailed;
    private List<Command>? _outAbandoned;

    /// <summary>
    /// Starts (or restarts) a replica from what it persisted. <paramref name="random"/> must be seeded by the host
    /// (it only randomizes election timeouts). <paramref name="appliedUpTo"/> says how far a durable state machine
    /// has applied; by default the state machine is taken to hold exactly the snapshot.
    /// </summary>
    public Replica(ReplicaOptions options, PersistentState state, Random random, long? appliedUpTo = null)
    {
        options.Validate();
        _options = options;
        _random = random;
        _promised = state.HardState.Promised;
        _maxSeen = _promised;
        _snapshot = state.Snapshot;
        _configs = state.Snapshot.Configurations.Count > 0 ? new ConfigHistory(state.Snapshot.Configurations) : null;
        _log = new SlotLog(state.Snapshot.Index);
        foreach (var e in state.Entries)
            if (e.Slot >= _log.FirstSlot) _log.Put(e);
        _chosenPrefix = state.Snapshot.Index;
        _appliedUpTo = Math.Max(state.Snapshot.Index, appliedUpTo ?? state.Snapshot.Index);
        // Entries below the persisted chosen prefix are chosen; replaying them also rebuilds the configurations.
        for (long s = _chosenPrefix; s < state.HardState.ChosenPrefix; s++)
        {
            if (!_log.TryGet(s, out var e)) break;
            _log.Put(e with { Chosen = true });
        }
        AdvanceChosenPrefix();
        if (_appliedUpTo > _chosenPrefix)
            throw new ArgumentException($"The state machine applied up to {_appliedUpTo} but only {_chosenPrefix} slots are known chosen.", nameof(appliedUpTo));
        _persistedHardState = new HardState(_promised, _chosenPrefix);
        _durablePromised = _promised; // read back from storage: durable
        _role = ReplicaRole.Follower;
        // A restarted replica may have promised leases it no longer remembers: it waits a full election timeout
        // before promising anyone (PAXOS.md §5).
        _lastHeardLeaderTick = 0;
        ResetElectionTimer();
    }

    /// <summary>This replica's id.</summary>
    public int Id => _options.ReplicaId;

    /// <summary>The current role.</summary>
    public ReplicaRole Role => _role;

    /// <summary>Whether this replica leads (has a quorum of promises for its ballot).</summary>
    public bool IsLeader => _role == ReplicaRole.Leader;

    /// <summary>The replica believed to lead, for redirecting clients; null when unknown.</summary>
    public int? LeaderHint => IsLeader ? Id : _leaderHint;

    /// <summary>The highest ballot promised.</summary>
    public Ballot Promised => _promised;

    /// <summary>The leader's ballot while leading.</summary>
    public Ballot? LeaderBallot => _leader?.Ballot;

    /// <summary>Every slot below this is known chosen.</summary>
    public long ChosenPrefix => _chosenPrefix;

    /// <summary>Every slot below this has been handed to the state machine.</summary>
    public long AppliedUpTo => _appliedUpTo;

    /// <summary>The local tick count.</summary>
    public long Now => _now;

    /// <summary>The index of the latest snapshot (the first slot still in the log).</summary>
    public long SnapshotIndex => _snapshot.Index;

    /// <summary>How many log entries are held in memory.</summary>
    public int LogEntryCount => _log.Count;

    /// <summary>The approximate size of the log entries held in memory (<see cref="SlotValue.SizeBytes"/> summed).</summary>
    public long LogBytes => _log.Bytes;

    /// <summary>The configuration produced by the latest chosen membership change; null while joining.</summary>
    public Configuration? LatestConfiguration => _configs?.Latest;

    /// <summary>The configuration that governs <paramref name="slot"/>; null while joining.</summary>
    public Configuration? ConfigurationAt(long slot) => _configs?.At(slot);

    /// <summary>The options this replica runs with.</summary>
    public ReplicaOptions Options => _options;

    /// <summary>Advances local time by one tick: drives elections, heartbeats, retransmissions and leases.</summary>
    public void Tick()
    {
        _now++;
        if (_quiescent) return; // nothing is due in a quiescent group; a host need not even tick it
        switch (_role)
        {
            case ReplicaRole.Leader:
                LeaderTick();
                break;
            case ReplicaRole.Candidate:
                if (_now - _campaign!.StartedTick >= _randomizedElectionTimeout) StartCampaign(transferFrom: null);
                break;
            default:
                if (MayCampaign() && _now - _lastHeardLeaderTick >= _randomizedElectionTimeout) StartCampaign(transferFrom: null);
                break;
        }
    }

    /// <summary>Handles one message from a peer. Messages addressed elsewhere are ignored.</summary>
    public void Step(PaxosMessage message)
    {
        if (message.To != Id || message.From == Id) return;
        _maxSeen = Ballot.Max(_maxSeen, message.Ballot);
        // Answers to the quiescing round leave a quiescent leader asleep; anything else means the group is active.
        if (_quiescent && message is not (HeartbeatAck or Accepted or CatchUpAck or Heartbeat { Quiesce: true })) Wake();
        switch (message)
        {
            case Prepare m: OnPrepare(m); break;
            case Promise m: OnPromise(m); break;
            case Accept m: OnAccept(m); break;
            case Accepted m: OnAccepted(m); break;
            case Heartbeat m: OnHeartbeat(m); break;
            case HeartbeatAck m: OnHeartbeatAck(m); break;
            case Rejected m: OnRejected(m); break;
            case CatchUpRequest m: OnCatchUpRequest(m); break;
            case ChosenValues m: OnChosenValues(m); break;
            case InstallSnapshot m: OnInstallSnapshot(m); break;
            case CatchUpAck m: OnCatchUpAck(m); break;
            case TimeoutNow m: OnTimeoutNow(m); break;
            default: throw new ArgumentException($"Unknown message type {message.GetType().Name}.", nameof(message));
        }
    }

    /// <summary>
    /// Collects everything produced since the last call. The host must persist, then send, then apply, exactly in
    /// the order documented on <see cref="Ready"/> (only its early messages may go before its writes are durable),
    /// handle Readies one after another, and report each write with <see cref="Persisted"/>.
    /// </summary>
    public Ready TakeReady()
    {
        if (_leader is not null) FlushLeader();
        var hardState = new HardState(_promised, _chosenPrefix);
        List<ChosenEntry>? chosen = null;
        while (_appliedUpTo < _chosenPrefix)
        {
            if (!_log.TryGet(_appliedUpTo, out var e))
                throw new InvalidOperationException($"Replica {Id}: chosen slot {_appliedUpTo} is missing from the log.");
            (chosen ??= []).Add(new ChosenEntry(e.Slot, e.Value));
            _appliedUpTo++;
        }
        if (_leader is not null) CollectReadyReads();
        bool hardStateChanged = hardState != _persistedHardState;
        if (!hardStateChanged && _outEntries is null && _outSnapshot is null && _outMessages is null && _outEarlyMessages is null
            && chosen is null && _outSnapshotToApply is null && _outReadsReady is null && _outReadsFailed is null && _outAbandoned is null)
            return Ready.Empty;
        long sequence = ++_readySequence;
        bool promiseChanged = hardState.Promised != _persistedHardState.Promised;
        if (promiseChanged) _promiseWrite = (sequence, hardState.Promised);
        int earlyCount = _outEarlyMessages?.Count ?? 0;
        var ready = new Ready
        {
            Sequence = sequence,
            HardState = hardStateChanged ? hardState : null,
            HardStateMustSync = promiseChanged && _options.Mutation != ProtocolMutation.PromiseWithoutSync,
            Snapshot = _outSnapshot,
            Entries = (IReadOnlyList<LogEntry>?)_outEntries ?? [],
            Messages = JoinMessages(_outEarlyMessages, _outMessages),
            EarlyMessageCount = earlyCount,
            SnapshotToApply = _outSnapshotToApply,
            Chosen = (IReadOnlyList<ChosenEntry>?)chosen ?? [],
            ReadsReady = (IReadOnlyList<ReadState>?)_outReadsReady ?? [],
            ReadsFailed = (IReadOnlyList<long>?)_outReadsFailed ?? [],
            AbandonedProposals = (IReadOnlyList<Command>?)_outAbandoned ?? [],
        };
        _persistedHardState = hardState;
        _outEntries = null;
        _outSnapshot = null;
        _outSnapshotToApply = null;
        _outMessages = null;
        _outEarlyMessages = null;
        _outReadsReady = null;
        _outReadsFailed = null;
        _outAbandoned = null;
        return ready;
    }

    /// <summary>The early messages first (they may leave before the writes), then the others.</summary>
    private static IReadOnlyList<PaxosMessage> JoinMessages(List<PaxosMessage>? early, List<PaxosMessage>? late)
    {
        if (early is null) return (IReadOnlyList<PaxosMessage>?)late ?? [];
        if (late is not null) early.AddRange(late);
        return early;
    }

    private void Send(PaxosMessage message) => (_outMessages ??= []).Add(message);

    private void Persist(LogEntry entry)
    {
        _log.Put(entry);
        (_outEntries ??= []).Add(entry);
    }

    private void ResetElectionTimer() =>
        _randomizedElectionTimeout = _options.ElectionTimeoutTicks + _random.Next(_options.ElectionTimeoutTicks);

    /// <summary>Raises the promise register; the caller has checked <see cref="PaxosRules.MayPromise"/>.</summary>
    private void RaisePromise(Ballot ballot)
    {
        if (ballot <= _promised) return;
        _promised = ballot;
        if (_leader is not null && _leader.Ballot < ballot) BecomeFollower();
        else if (_campaign is not null && _campaign.Ballot < ballot) BecomeFollower();
    }

    private void BecomeFollower()
    {
        if (_leader is not null)
        {
            foreach (var read in _leader.Reads) (_outReadsFailed ??= []).Add(read.ReadId);
            if (_leader.Pending.Count > 0) (_outAbandoned ??= []).AddRange(_leader.Pending);
        }
        _leader = null;
        _campaign = null;
        _role = ReplicaRole.Follower;
        ResetElectionTimer();
    }

    private bool MayCampaign() => _configs is not null && _configs.At(_chosenPrefix).IsVoter(Id);

    /// <summary>Marks contiguous chosen slots as the chosen prefix, recording membership changes in slot order.</summary>
    private void AdvanceChosenPrefix()
    {
        while (_log.TryGet(_chosenPrefix, out var e) && e.Chosen)
        {
            if (e.Value.Kind == SlotValueKind.Membership && _configs is not null)
            {
                _configs.Record(e.Slot, e.Value.Change, _options.InflightSlotsMax);
                _leader?.OnMembershipChosen(e.Slot + _options.InflightSlotsMax);
            }
            _chosenPrefix++;
        }
    }
}
