namespace Kv.Paxos;

/// <summary>Elections: pre-vote, Phase 1 over every unchosen slot, and taking over as leader (PAXOS.md §4).</summary>
public sealed partial class Replica
{
    private void StartCampaign(Ballot? transferFrom)
    {
        if (!MayCampaign()) return;
        BecomeFollower();
        var ballot = new Ballot(Math.Max(_promised.Round, _maxSeen.Round) + 1, Id);
        var config = _configs!.At(_chosenPrefix);
        _campaign = new Campaign(ballot, _chosenPrefix, config, preVote: transferFrom is null, transferFrom, _now);
        _role = ReplicaRole.Candidate;
        ResetElectionTimer();
        if (_campaign.PreVote)
        {
            _campaign.PreVotes.Add(Id);
            foreach (int voter in config.Voters)
                if (voter != Id) Send(new Prepare(Id, voter, ballot, _chosenPrefix, PreVote: true, TransferFrom: null));
            if (config.IsQuorum(_campaign.PreVotes)) StartPhase1();
        }
        else
        {
            StartPhase1();
        }
    }

    private void StartPhase1()
    {
        var c = _campaign!;
        c.PreVote = false;
        _promised = c.Ballot; // promise to ourselves first; persisted before the Prepares leave
        HeardLeader(c.Ballot, Id);
        c.Promises[Id] = _log.From(c.FromSlot);
        foreach (int voter in c.Configuration.Voters)
            if (voter != Id) Send(new Prepare(Id, voter, c.Ballot, c.FromSlot, PreVote: false, c.TransferFrom));
        if (c.Configuration.IsQuorum(c.Promises.Keys)) BecomeLeader();
    }

    private void OnPromise(Promise m)
    {
        if (!m.Granted) _maxSeen = Ballot.Max(_maxSeen, m.Promised);
        if (m.ChosenPrefix > _chosenPrefix && _leader is null) Send(new CatchUpRequest(Id, m.From, _promised, ReportedChosenPrefix));
        if (_leader is not null && _leader.Reprepare is not null && !m.PreVote && m.Ballot == _leader.Ballot)
        {
            OnReprepareResponse(m);
            return;
        }
        var c = _campaign;
        if (c is null || m.Ballot != c.Ballot || m.PreVote != c.PreVote || !m.Granted) return;
        if (m.PreVote)
        {
            c.PreVotes.Add(m.From);
            if (c.Configuration.IsQuorum(c.PreVotes)) StartPhase1();
            return;
        }
        if (m.SnapshotIndex > c.FromSlot)
        {
            // The promiser compacted slots we have not learned: their values are not in its promise, so we cannot
            // pick safe values for them. Catch up first and campaign again later.
            Send(new CatchUpRequest(Id, m.From, _promised, _chosenPrefix));
            BecomeFollower();
            return;
        }
        c.Promises[m.From] = m.Entries;
        if (c.Configuration.IsQuorum(c.Promises.Keys)) BecomeLeader();
    }

    private void BecomeLeader()
    {
        var c = _campaign!;
        _campaign = null;
        _role = ReplicaRole.Leader;
        _leaderHint = Id;
        // Slots compacted while campaigning are chosen and applied: the tenure starts above them.
        _leader = new LeaderState(c.Ballot, Math.Max(c.FromSlot, _log.FirstSlot), c.Configuration, _now);
        foreach (var peer in _configs!.From(c.FromSlot).SelectMany(cfg => cfg.Members).Distinct())
            if (peer != Id) _leader.Peer(peer, _now);
        MergePromises(c.Promises, c.FromSlot);
        // A configuration chosen before this tenure may not be in force yet: pad up to it, so that the leader
        // prepares it (and can serve reads) without waiting for traffic.
        _leader.PadUntil = Math.Max(_leader.PadUntil, _configs.LatestFromSlot);
        SendHeartbeats();
    }

    /// <summary>
    /// Computes the value each slot from <paramref name="fromSlot"/> on must carry: a value a promiser knows is
    /// chosen, else the value accepted at the highest ballot (PaxosRules.SafeValue), else a no-op for a gap.
    /// </summary>
    private void MergePromises(Dictionary<int, IReadOnlyList<LogEntry>> promises, long fromSlot)
    {
        var leader = _leader!;
        var best = leader.Recovered;
        foreach (var (from, entries) in promises)
        {
            if (_options.Mutation == ProtocolMutation.ProposeOwnValue && from != Id) continue;
            foreach (var e in entries)
            {
                if (e.Slot < fromSlot || e.Slot < leader.NextSlot) continue; // already re-proposed at our ballot
                if (!best.TryGetValue(e.Slot, out var seen) || Dominates(e, seen)) best[e.Slot] = e;
            }
        }
        foreach (long slot in best.Keys) leader.RecoveredEnd = Math.Max(leader.RecoveredEnd, slot + 1);
    }

    private static bool Dominates(LogEntry candidate, LogEntry current) =>
        !current.Chosen && (candidate.Chosen || candidate.Ballot > current.Ballot);

    private void OnTimeoutNow(TimeoutNow m)
    {
        // Only the leader we follow may hand over, and only at the ballot whose lease it gave up.
        if (m.Ballot != _heardLeaderBallot || m.From != _leaderHint || m.Ballot < _promised || _leader is not null) return;
        StartCampaign(transferFrom: m.Ballot);
    }
}
