namespace Kv.Paxos;

/// <summary>Membership changes through the log, one at a time, and leadership transfer (PAXOS.md §6).</summary>
public sealed partial class Replica
{
    /// <summary>
    /// Proposes one membership change. Refused while another change is not yet in force, when promoting a
    /// learner that lags more than <see cref="ReplicaOptions.LearnerPromotionLagSlotsMax"/>, or when the change
    /// does not apply to the latest configuration.
    /// </summary>
    public RequestStatus ProposeMembership(MembershipChange change)
    {
        var leader = _leader;
        if (leader is null) return RequestStatus.NotLeader;
        Wake();
        if (MembershipChangePending()) return RequestStatus.Refused;
        var latest = _configs!.Latest;
        if (latest.Apply(change).Equals(latest)) return RequestStatus.Refused;
        if (change.Kind == MembershipChangeKind.PromoteLearner)
        {
            if (!leader.Peers.TryGetValue(change.ReplicaId, out var p)
                || p.ChosenPrefix < _chosenPrefix - _options.LearnerPromotionLagSlotsMax)
                return RequestStatus.Refused;
        }
        leader.PendingMembership = change;
        return RequestStatus.Accepted;
    }

    /// <summary>Whether a change is queued, proposed but not chosen, or chosen but not yet in force.</summary>
    public bool MembershipChangePending()
    {
        var leader = _leader;
        if (leader is null || _configs is null) return false;
        if (leader.PendingMembership is not null || _configs.LatestFromSlot > _chosenPrefix) return true;
        for (long s = _chosenPrefix; s < leader.NextSlot; s++)
            if (_log.TryGet(s, out var e) && e.Value.Kind == SlotValueKind.Membership) return true;
        foreach (var recovered in leader.Recovered.Values)
            if (recovered.Value.Kind == SlotValueKind.Membership) return true;
        return false;
    }

    /// <summary>
    /// Hands leadership to <paramref name="target"/>: the lease is given up at once (the target will be promised
    /// without waiting for it to expire), and the target campaigns immediately.
    /// </summary>
    public RequestStatus TransferLeadership(int target)
    {
        var leader = _leader;
        if (leader is null) return RequestStatus.NotLeader;
        if (target == Id || !_configs!.Latest.IsVoter(target)) return RequestStatus.Refused;
        Wake();
        leader.LeaseRevoked = true;
        Send(new TimeoutNow(Id, target, leader.Ballot));
        return RequestStatus.Accepted;
    }
}
