namespace Kv.Paxos;

/// <summary>The leader: batching proposals into slots, the pipeline window, Phase 2 and learning (PAXOS.md §3).</summary>
public sealed partial class Replica
{
    /// <summary>
    /// Queues a client command. It is batched into a slot at the next <see cref="TakeReady"/>; its outcome is
    /// known when it is applied (or reported in <see cref="Ready.AbandonedProposals"/> if leadership is lost first).
    /// </summary>
    public RequestStatus Propose(Command command)
    {
        if (_leader is null) return RequestStatus.NotLeader;
        if (_leader.Pending.Count >= _options.PendingProposalsMax) return RequestStatus.Busy;
        Wake();
        _leader.Pending.Enqueue(command);
        return RequestStatus.Accepted;
    }

    private void FlushLeader()
    {
        var leader = _leader!;
        List<ProposedSlot>? fresh = null;
        long windowEnd = _chosenPrefix + _options.InflightSlotsMax;
        while (leader.NextSlot < windowEnd)
        {
            long slot = leader.NextSlot;
            var config = _configs!.At(slot);
            if (!config.Equals(leader.PreparedConfiguration))
            {
                if (leader.Reprepare is null) StartReprepare(slot, config);
                if (!config.Equals(leader.PreparedConfiguration)) break;
            }
            if (leader.Reprepare is not null) break;
            if (slot < _log.FirstSlot)
            {
                leader.NextSlot++; // chosen (known before this tenure) and compacted since: nothing to propose
                leader.Recovered.Remove(slot);
                continue;
            }
            SlotValue? value = NextValue(leader, slot);
            if (value is null) break;
            leader.NextSlot++;
            ProposeSlot(slot, value);
            (fresh ??= []).Add(new ProposedSlot(slot, value));
        }
        if (fresh is not null) SendAccepts(fresh, recipientFilter: null);
        AdvanceChosenPrefix(); // a group of one chooses its own proposals at once
        if (leader.ReadRoundRequested)
        {
            leader.ReadRoundRequested = false;
            SendHeartbeats();
        }
    }

    /// <summary>The next value to propose: recovered values first, then a membership change, commands, padding.</summary>
    private SlotValue? NextValue(LeaderState leader, long slot)
    {
        if (slot < leader.RecoveredEnd)
            return leader.Recovered.Remove(slot, out var recovered) ? recovered.Value : SlotValue.NoOp;
        if (leader.PendingMembership is { } change)
        {
            leader.PendingMembership = null;
            return SlotValue.OfMembership(change);
        }
        if (leader.Pending.Count > 0)
        {
            // Count first, then fill an exact array: the batch is the slot value's own storage, copied once.
            int count = 0;
            long bytes = 0;
            foreach (var next in leader.Pending)
            {
                if (count == _options.BatchCommandsMax || (count > 0 && bytes + next.Payload.Length > _options.BatchBytesMax)) break;
                bytes += next.Payload.Length;
                count++;
            }
            var batch = new Command[count];
            for (int i = 0; i < count; i++) batch[i] = leader.Pending.Dequeue();
            return SlotValue.OfCommands(batch);
        }
        return slot < leader.PadUntil ? SlotValue.NoOp : null;
    }

    private void ProposeSlot(long slot, SlotValue value)
    {
        var leader = _leader!;
        bool alreadyChosen = _log.TryGet(slot, out var existing) && existing.Chosen;
        // The leader is an acceptor too; its own accept is persisted in this Ready. It counts toward a quorum at once
        // (the slot can only be chosen in a later step, whose Ready is handled after this one's write), or, when the
        // Accepts leave before the write, once the host reports the write durable (PAXOS.md §10).
        Persist(new LogEntry(slot, leader.Ballot, value, alreadyChosen));
        var inflight = new InflightSlot(value, _now);
        if (_configs!.At(slot).IsVoter(Id)) RecordOwnAccept(inflight);
        leader.Inflight[slot] = inflight;
        TryChoose(slot, inflight);
    }

    private void SendAccepts(List<ProposedSlot> slots, Func<int, long, bool>? recipientFilter)
    {
        var leader = _leader!;
        foreach (int peer in RecipientsFor(slots[0].Slot, slots[^1].Slot))
        {
            List<ProposedSlot>? chunk = null;
            long chunkBytes = 0;
            foreach (var slot in slots)
            {
                if (recipientFilter is not null && !recipientFilter(peer, slot.Slot)) continue;
                int size = slot.Value.SizeBytes;
                if (chunk is not null && chunkBytes + size > _options.MessageValueBytesMax)
                {
                    SendAccept(new Accept(Id, peer, leader.Ballot, chunk, leader.TenureStart, _chosenPrefix));
                    chunk = null;
                }
                if (chunk is null) chunkBytes = 0;
                (chunk ??= new List<ProposedSlot>(Math.Min(slots.Count, _options.AcceptSlotsPerMessageMax))).Add(slot);
                chunkBytes += size;
                if (chunk.Count == _options.AcceptSlotsPerMessageMax)
                {
                    SendAccept(new Accept(Id, peer, leader.Ballot, chunk, leader.TenureStart, _chosenPrefix));
                    chunk = null;
                }
            }
            if (chunk is not null) SendAccept(new Accept(Id, peer, leader.Ballot, chunk, leader.TenureStart, _chosenPrefix));
        }
    }

    /// <summary>Every member (voter or learner) of a configuration governing a slot in the range, except this replica.</summary>
    private List<int> RecipientsFor(long firstSlot, long lastSlot)
    {
        var result = new List<int>(4);
        var first = _configs!.At(firstSlot);
        foreach (int m in first.Members)
            if (m != Id) result.Add(m);
        var last = _configs.At(lastSlot);
        if (!ReferenceEquals(first, last))
            foreach (int m in last.Members)
                if (m != Id && !result.Contains(m)) result.Add(m);
        return result;
    }

    private void OnAccepted(Accepted m)
    {
        var leader = _leader;
        if (leader is null || m.Ballot != leader.Ballot) return;
        var peer = leader.Peer(m.From, _now);
        peer.ChosenPrefix = m.ChosenPrefix;
        peer.LastAckTick = _now;
        foreach (long slot in m.Slots)
        {
            if (!leader.Inflight.TryGetValue(slot, out var inflight)) continue;
            if (!inflight.AcceptedBy.Contains(m.From) && _configs!.At(slot).IsVoter(m.From)) inflight.AcceptedBy.Add(m.From);
            TryChoose(slot, inflight);
        }
        AdvanceChosenPrefix();
    }

    private void TryChoose(long slot, InflightSlot inflight)
    {
        if (inflight.AcceptedBy.Count < _configs!.At(slot).QuorumSize) return;
        _leader!.Inflight.Remove(slot);
        if (_log.TryGet(slot, out var e) && !e.Chosen) _log.Put(e with { Chosen = true });
    }

    private void LeaderTick()
    {
        var leader = _leader!;
        HeardLeader(leader.Ballot, Id); // a live leader backs itself: it promises nobody else meanwhile
        if (_now - leader.LastHeartbeatTick >= _options.HeartbeatIntervalTicks) SendHeartbeats();
        RetransmitUnchosen();
        if (leader.Reprepare is { } r && _now - r.SentTick >= _options.RetransmitTicks) SendReprepare(r);
        if (_now - leader.LastQuorumCheckTick >= _options.ElectionTimeoutTicks)
        {
            leader.LastQuorumCheckTick = _now;
            if (!HeardFromQuorumSince(_now - _options.ElectionTimeoutTicks))
            {
                BecomeFollower(); // partitioned away: stop leading so a reachable majority can elect
                return;
            }
        }
        if (!_configs!.At(_chosenPrefix).IsVoter(Id))
        {
            // Removed from the group: hand over to a remaining voter and stop.
            int successor = _configs.At(_chosenPrefix).Voters[0];
            TransferLeadership(successor);
            BecomeFollower();
            return;
        }
        MaybeQuiesce(leader);
    }

    private bool HeardFromQuorumSince(long tick)
    {
        var leader = _leader!;
        foreach (var config in _configs!.From(_chosenPrefix))
        {
            int live = 0;
            foreach (int v in config.Voters)
                if (v == Id || (leader.Peers.TryGetValue(v, out var p) && p.LastAckTick >= tick)) live++;
            if (live < config.QuorumSize) return false;
        }
        return true;
    }

    private void RetransmitUnchosen()
    {
        var leader = _leader!;
        if (leader.Inflight.Count == 0) return;
        List<ProposedSlot>? stale = null;
        foreach (var (slot, inflight) in leader.Inflight)
        {
            if (_now - inflight.LastSentTick < _options.RetransmitTicks) continue;
            inflight.LastSentTick = _now;
            (stale ??= []).Add(new ProposedSlot(slot, inflight.Value));
        }
        if (stale is null) return;
        stale.Sort((a, b) => a.Slot.CompareTo(b.Slot));
        SendAccepts(stale, (peer, slot) => !leader.Inflight[slot].AcceptedBy.Contains(peer));
    }

    private void SendHeartbeats()
    {
        var leader = _leader!;
        leader.LastHeartbeatTick = _now;
        long seq = ++leader.HeartbeatSequence;
        leader.HeartbeatSentTick[seq] = _now;
        foreach (int peer in leader.Peers.Keys)
            Send(new Heartbeat(Id, peer, leader.Ballot, seq, leader.TenureStart, _chosenPrefix));
        UpdateConfirmedSequence(); // a group of one confirms alone
    }

    private void OnHeartbeatAck(HeartbeatAck m)
    {
        var leader = _leader;
        if (leader is null || m.Ballot != leader.Ballot) return;
        var peer = leader.Peer(m.From, _now);
        peer.AckedSequence = Math.Max(peer.AckedSequence, m.Sequence);
        peer.LastAckTick = _now;
        peer.ChosenPrefix = m.ChosenPrefix;
        UpdateConfirmedSequence();
        // The peer could not learn everything the heartbeat declared chosen: it lacks values, so send them.
        if (m.ChosenPrefix < m.ChosenBelowSeen) SendCatchUp(m.From, peer, force: false);
    }

    /// <summary>Starts Phase 1 at the leader's own ballot among the voters of a configuration entering its window.</summary>
    private void StartReprepare(long fromSlot, Configuration config)
    {
        var leader = _leader!;
        foreach (int m in config.Members)
            if (m != Id) leader.Peer(m, _now);
        if (config.Voters.SequenceEqual(leader.PreparedConfiguration.Voters))
        {
            leader.PreparedConfiguration = config; // same quorums: the promises already cover it
            return;
        }
        var r = new Reprepare(fromSlot, config, _now);
        leader.Reprepare = r;
        if (config.IsVoter(Id)) r.Promises[Id] = _log.From(fromSlot);
        SendReprepare(r);
        if (config.IsQuorum(r.Promises.Keys)) CompleteReprepare();
    }

    private void SendReprepare(Reprepare r)
    {
        r.SentTick = _now;
        foreach (int voter in r.Configuration.Voters)
            if (voter != Id && !r.Promises.ContainsKey(voter))
                Send(new Prepare(Id, voter, _leader!.Ballot, r.FromSlot, PreVote: false, TransferFrom: null));
    }

    private void OnReprepareResponse(Promise m)
    {
        var r = _leader!.Reprepare!;
        if (!m.Granted || m.FromSlot != r.FromSlot) return;
        if (m.SnapshotIndex > r.FromSlot)
        {
            BecomeFollower(); // someone is ahead of the leader: let it (or a caught-up replica) lead
            return;
        }
        r.Promises[m.From] = m.Entries;
        if (r.Configuration.IsQuorum(r.Promises.Keys)) CompleteReprepare();
    }

    private void CompleteReprepare()
    {
        var leader = _leader!;
        var r = leader.Reprepare!;
        leader.Reprepare = null;
        leader.PreparedConfiguration = r.Configuration;
        MergePromises(r.Promises, r.FromSlot);
        var members = _configs!.From(_chosenPrefix).SelectMany(c => c.Members).ToHashSet();
        foreach (int gone in leader.Peers.Keys.Where(p => !members.Contains(p)).ToList()) leader.Peers.Remove(gone);
    }
}
