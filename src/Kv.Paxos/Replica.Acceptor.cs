namespace Kv.Paxos;

/// <summary>The acceptor's side: promises, accepts, and learning from the leader (PAXOS.md §2–§3).</summary>
public sealed partial class Replica
{
    private void OnPrepare(Prepare m)
    {
        // A candidate knows more chosen slots than we do: ask it, since without a leader nobody else will tell
        // us (we may even be a voter without knowing it yet).
        if (m.FromSlot > _chosenPrefix && _leader is null) Send(new CatchUpRequest(Id, m.From, _promised, ReportedChosenPrefix));
        bool isVoter = _configs is not null && _configs.At(m.FromSlot).IsVoter(Id);
        if (m.PreVote)
        {
            // A pre-vote changes nothing: it only tells the candidate whether a real Prepare would be granted.
            bool wouldGrant = isVoter && m.Ballot > _promised && LeaseAllowsPromise(m);
            Send(new Promise(Id, m.From, m.Ballot, PreVote: true, wouldGrant, _promised, m.FromSlot, [], _chosenPrefix, _log.FirstSlot));
            return;
        }
        if (!isVoter || !PaxosRules.MayPromise(_promised, m.Ballot) || !LeaseAllowsPromise(m))
        {
            Send(new Promise(Id, m.From, m.Ballot, PreVote: false, Granted: false, _promised, m.FromSlot, [], _chosenPrefix, _log.FirstSlot));
            return;
        }
        RaisePromise(m.Ballot);
        // Promising resets the timer, as hearing a leader does: this voter now backs the candidate.
        HeardLeader(m.Ballot, m.From);
        var entries = _log.From(m.FromSlot);
        Send(new Promise(Id, m.From, m.Ballot, PreVote: false, Granted: true, _promised, m.FromSlot, entries, _chosenPrefix, _log.FirstSlot));
    }

    /// <summary>
    /// The lease rule: a replica that heard a live leader within the election timeout promises nobody else,
    /// unless that very leader handed over (its lease is then void). The leader counts itself as heard.
    /// </summary>
    private bool LeaseAllowsPromise(Prepare m)
    {
        if (m.Ballot == _heardLeaderBallot) return true;
        if (_now - _lastHeardLeaderTick >= _options.ElectionTimeoutTicks) return true;
        return m.TransferFrom is { } from && from == _heardLeaderBallot;
    }

    private void HeardLeader(Ballot ballot, int leaderId)
    {
        if (ballot < _heardLeaderBallot) return;
        _heardLeaderBallot = ballot;
        _lastHeardLeaderTick = _now;
        _leaderHint = leaderId;
    }

    /// <summary>Checks a leader message's ballot; on success the sender is this replica's leader.</summary>
    private bool AdmitLeaderMessage(PaxosMessage m)
    {
        if (!PaxosRules.MayAccept(_promised, m.Ballot))
        {
            Send(new Rejected(Id, m.From, m.Ballot, _promised));
            return false;
        }
        if (_leader is not null && _leader.Ballot == m.Ballot) return false; // only this replica owns its ballot
        RaisePromise(m.Ballot);
        if (_role == ReplicaRole.Candidate) BecomeFollower();
        HeardLeader(m.Ballot, m.From);
        return true;
    }

    private void OnAccept(Accept m)
    {
        if (!AdmitLeaderMessage(m)) return;
        var acked = new long[m.Slots.Count];
        int count = 0;
        foreach (var proposed in m.Slots)
        {
            if (proposed.Slot >= _log.FirstSlot)
            {
                // A slot known chosen keeps its entry: the leader's value equals the chosen one (PAXOS.md §3.2).
                if (!_log.TryGet(proposed.Slot, out var existing) || !existing.Chosen)
                    Persist(new LogEntry(proposed.Slot, m.Ballot, proposed.Value, Chosen: false));
            }
            acked[count++] = proposed.Slot;
        }
        LearnFromLeader(m.Ballot, m.TenureStart, m.ChosenBelow);
        Send(new Accepted(Id, m.From, m.Ballot, acked, ReportedChosenPrefix));
    }

    private void OnHeartbeat(Heartbeat m)
    {
        if (!AdmitLeaderMessage(m)) return;
        LearnFromLeader(m.Ballot, m.TenureStart, m.ChosenBelow);
        Send(new HeartbeatAck(Id, m.From, m.Ballot, m.Sequence, ReportedChosenPrefix, m.ChosenBelow));
        // The leader is going quiet; a follower that knows everything it declared chosen stops its election timer.
        // One that lags stays awake: its timer will wake the group, which then catches it up.
        _quiescent = m.Quiesce && _leader is null && _configs is not null && _chosenPrefix >= m.ChosenBelow;
    }

    /// <summary>
    /// The leader at <paramref name="ballot"/> says every slot in [<paramref name="tenureStart"/>,
    /// <paramref name="chosenBelow"/>) was chosen at that ballot. An entry accepted at exactly that ballot holds
    /// the chosen value, since a ballot's owner proposes one value per slot. Slots that do not match wait for
    /// catch-up.
    /// </summary>
    private void LearnFromLeader(Ballot ballot, long tenureStart, long chosenBelow)
    {
        if (_configs is null) return; // joining: learning waits for the snapshot that carries the configurations
        for (long s = _chosenPrefix; s < chosenBelow; s++)
        {
            if (!_log.TryGet(s, out var e)) break;
            if (e.Chosen) continue;
            if (s < tenureStart || e.Ballot != ballot) break;
            _log.Put(e with { Chosen = true });
        }
        AdvanceChosenPrefix();
    }

    private void OnRejected(Rejected m)
    {
        _maxSeen = Ballot.Max(_maxSeen, m.Promised);
        if (_leader is not null && m.Promised > _leader.Ballot) BecomeFollower();
        else if (_campaign is not null && m.Promised > _campaign.Ballot) BecomeFollower();
    }
}
