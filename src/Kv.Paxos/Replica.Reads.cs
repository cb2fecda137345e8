namespace Kv.Paxos;

/// <summary>Linearizable reads: under the leader lease, or after a read-index round (PAXOS.md §5).</summary>
public sealed partial class Replica
{
    private const long ReadIndexUnknown = -1;

    /// <summary>Whether the leader's lease is valid now, so a read may be served without a quorum round.</summary>
    public bool HoldsLease => _leader is { LeaseRevoked: false } l && (!_quiescent || _options.Mutation == ProtocolMutation.QuiesceKeepsLease) && _options.LeaseReadsEnabled && _now < l.LeaseUntilTick && KnowsEveryChosenSlot(l);

    /// <summary>
    /// Whether this leader's Phase 1 has covered every configuration in force, and everything it found is chosen,
    /// so that every slot chosen by anyone is below the chosen prefix. Until then reads wait (PAXOS.md §5): a
    /// leader prepared only in an older configuration cannot see slots a newer configuration's quorum chose.
    /// </summary>
    private bool KnowsEveryChosenSlot(LeaderState leader) =>
        leader.Reprepare is null
        && _chosenPrefix >= leader.RecoveredEnd
        && leader.PreparedConfiguration.Voters.SequenceEqual(_configs!.Latest.Voters);

    /// <summary>
    /// Asks to read linearizably. The read is answered through <see cref="Ready.ReadsReady"/> with the index the
    /// state machine must have applied first: at once under a valid lease, otherwise after a quorum confirms this
    /// leader with a heartbeat round sent after the request.
    /// </summary>
    public RequestStatus RequestRead(long readId)
    {
        var leader = _leader;
        if (leader is null) return RequestStatus.NotLeader;
        if (leader.Reads.Count >= _options.PendingReadsMax) return RequestStatus.Busy;
        Wake();
        // Every write acknowledged before this read is in a slot below this index: this leader acknowledges only
        // what it has applied (below the chosen prefix), and once Phase 1 has covered every configuration, every
        // slot anyone chose is below the chosen prefix too. Until then the index is fixed later (ReadIndexUnknown).
        // Writes still in flight need not be waited for.
        long index = KnowsEveryChosenSlot(leader) ? _chosenPrefix : ReadIndexUnknown;
        if (HoldsLease)
        {
            leader.Reads.Add(new PendingRead(readId, index, SequenceNeeded: 0));
        }
        else
        {
            leader.Reads.Add(new PendingRead(readId, index, leader.HeartbeatSequence + 1));
            leader.ReadRoundRequested = true;
        }
        return RequestStatus.Accepted;
    }

    /// <summary>
    /// Recomputes the newest heartbeat round that a quorum of every configuration in force has answered, and
    /// the lease that round gives: it started when the round was sent, before any follower reset its timer.
    /// </summary>
    private void UpdateConfirmedSequence()
    {
        var leader = _leader!;
        long confirmed = long.MaxValue;
        var acked = new List<long>(8);
        foreach (var config in _configs!.From(_chosenPrefix))
        {
            acked.Clear();
            foreach (int v in config.Voters)
                acked.Add(v == Id ? leader.HeartbeatSequence : leader.Peers.TryGetValue(v, out var p) ? p.AckedSequence : 0);
            acked.Sort((a, b) => b.CompareTo(a));
            confirmed = Math.Min(confirmed, acked[config.QuorumSize - 1]);
        }
        if (confirmed <= leader.ConfirmedSequence) return;
        leader.ConfirmedSequence = confirmed;
        if (leader.HeartbeatSentTick.TryGetValue(confirmed, out long sentTick))
            leader.LeaseUntilTick = Math.Max(leader.LeaseUntilTick, sentTick + _options.LeaseTicks);
        foreach (long old in leader.HeartbeatSentTick.Keys.Where(s => s < confirmed).ToList())
            leader.HeartbeatSentTick.Remove(old);
    }

    private void CollectReadyReads()
    {
        var leader = _leader!;
        if (leader.Reads.Count == 0) return;
        int kept = 0;
        bool knowsAll = KnowsEveryChosenSlot(leader);
        for (int i = 0; i < leader.Reads.Count; i++)
        {
            var read = leader.Reads[i];
            if (read.Index == ReadIndexUnknown && knowsAll) read = read with { Index = _chosenPrefix };
            if (read.Index != ReadIndexUnknown && read.SequenceNeeded <= leader.ConfirmedSequence && read.Index <= _chosenPrefix)
                (_outReadsReady ??= []).Add(new ReadState(read.ReadId, read.Index));
            else
                leader.Reads[kept++] = read;
        }
        leader.Reads.RemoveRange(kept, leader.Reads.Count - kept);
    }
}
