namespace Kv.Paxos;

/// <summary>
/// Quiescence of idle groups (PAXOS.md §8): a leader whose group has nothing in flight and whose peers have learned
/// everything sends a last heartbeat marked Quiesce and stops heartbeating; the followers stop their election
/// timers. A host need not tick a quiescent replica at all, which is what makes thousands of idle groups cheap.
/// Anything that makes the group active again (a proposal, a read, a message other than an answer to that last
/// round) wakes it, and so does the host when it loses contact with the leader's node.
/// </summary>
public sealed partial class Replica
{
    private bool _quiescent;

    /// <summary>Whether the group is quiescent here: nothing is due until something wakes it, so ticks may be skipped.</summary>
    public bool IsQuiescent => _quiescent;

    /// <summary>
    /// Ends quiescence. A host calls it when it has not heard from the leader's node for an election timeout, so
    /// that the followers of a dead leader campaign; the replica calls it itself on activity.
    /// </summary>
    public void Wake()
    {
        if (!_quiescent) return;
        _quiescent = false;
        if (_leader is { } leader && _options.Mutation != ProtocolMutation.QuiesceKeepsLease)
        {
            // Time passed that this replica may not have counted (its host skipped the ticks): no lease from before
            // the quiet spell survives, and the peers get a fresh window before the quorum check judges them.
            leader.LeaseUntilTick = long.MinValue;
            leader.HeartbeatSentTick.Clear();
            leader.LastQuorumCheckTick = _now;
            foreach (var p in leader.Peers.Values) p.LastAckTick = _now;
            leader.LastHeartbeatTick = _now - _options.HeartbeatIntervalTicks; // heartbeat at the next tick
            leader.QuietSinceTick = _now;
        }
    }

    private void MaybeQuiesce(LeaderState leader)
    {
        if (_options.QuiesceAfterTicks <= 0) return;
        if (!CanQuiesce(leader))
        {
            leader.QuietSinceTick = _now;
            return;
        }
        if (_now - leader.QuietSinceTick < _options.QuiesceAfterTicks) return;
        // The last round carries no lease: its sent tick is not recorded, so its acknowledgements renew nothing.
        leader.LastHeartbeatTick = _now;
        long seq = ++leader.HeartbeatSequence;
        foreach (int peer in leader.Peers.Keys)
            Send(new Heartbeat(Id, peer, leader.Ballot, seq, leader.TenureStart, _chosenPrefix, Quiesce: true));
        if (_options.Mutation != ProtocolMutation.QuiesceKeepsLease) leader.LeaseUntilTick = long.MinValue;
        _quiescent = true;
    }

    private bool CanQuiesce(LeaderState leader)
    {
        if (leader.Pending.Count > 0 || leader.Inflight.Count > 0 || leader.Reads.Count > 0 || leader.Reprepare is not null
            || leader.PendingMembership is not null || leader.LeaseRevoked || leader.Recovered.Count > 0
            || leader.NextSlot != _chosenPrefix || leader.PadUntil > _chosenPrefix || _appliedUpTo != _chosenPrefix
            || !KnowsEveryChosenSlot(leader) || MembershipChangePending())
            return false;
        foreach (int member in _configs!.Latest.Members)
        {
            if (member == Id) continue;
            if (!leader.Peers.TryGetValue(member, out var p) || p.ChosenPrefix != _chosenPrefix
                || _now - p.LastAckTick > 2L * _options.HeartbeatIntervalTicks)
                return false;
        }
        return true;
    }
}
