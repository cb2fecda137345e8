using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>The host around each replica: ticks, the persist-then-send-then-apply loop, crashes and the network.</summary>
public sealed partial class Simulator
{
    private ReplicaOptions OptionsFor(int id) => new()
    {
        ReplicaId = id,
        ElectionTimeoutTicks = _p.ElectionTimeoutTicks,
        HeartbeatIntervalTicks = _p.HeartbeatIntervalTicks,
        ClockDriftBound = _p.ClockDriftBound,
        LeaseReadsEnabled = _p.LeaseReads,
        InflightSlotsMax = _p.InflightSlotsMax,
        BatchCommandsMax = _p.BatchCommandsMax,
        MessageValueBytesMax = _p.MessageValueBytesMax,
        AcceptSlotsPerMessageMax = Math.Max(1, _p.InflightSlotsMax / 2),
        CatchUpSlotsPerMessageMax = 16,
        QuiesceAfterTicks = _p.QuiesceAfterTicks,
        LeaderAcceptsBeforeDurable = _p.LeaderAcceptsBeforeDurable,
        Mutation = _p.ProtocolMutation,
    };

    private void StartNode(SimNode node)
    {
        var state = node.Disk.Read();
        node.Replica = new Replica(OptionsFor(node.Id), state, new Random(_rng.Next()));
        node.StateMachine.Restore(state.Snapshot.Data);
        node.SmAppliedUpTo = state.Snapshot.Index;
        node.TickRate = 1 + (_p.ExtremeDrift ? (_rng.Next(2) * 2 - 1) : (_rng.NextDouble() * 2 - 1)) * _p.ActualDrift;
        int incarnation = node.Incarnation;
        if (_trace is not null) Trace($"n{node.Id} start rate={node.TickRate:F3} chosen={node.Replica.ChosenPrefix}");
        At(_now + TickInterval(node), () => TickNode(node, incarnation));
    }

    private long TickInterval(SimNode node) => Math.Max(1, (long)(_p.TickUs / node.TickRate));

    private void TickNode(SimNode node, int incarnation)
    {
        if (node.Incarnation != incarnation || node.Replica is not { } r) return;
        bool wasLeader = r.IsLeader;
        if (_p.QuiesceAfterTicks > 0) NodeLiveness(node, r);
        // As the real host does, a quiescent replica is not ticked at all: its clock stands still.
        bool wasQuiescent = r.IsQuiescent;
        if (!wasQuiescent) r.Tick();
        if (!wasQuiescent && r.IsQuiescent) _faults.Quiesced++;
        if (!wasLeader && r.IsLeader) OnBecameLeader(node);
        Pump(node);
        At(_now + TickInterval(node), () => TickNode(node, incarnation));
    }

    /// <summary>
    /// The host's node liveness: a ping to every other node each heartbeat interval, and a quiescent follower woken
    /// once its leader's node has been silent for an election timeout.
    /// </summary>
    private void NodeLiveness(SimNode node, Replica r)
    {
        node.TicksSincePing++;
        if (node.TicksSincePing >= _p.HeartbeatIntervalTicks)
        {
            node.TicksSincePing = 0;
            foreach (int peer in _nodes.Keys)
                if (peer != node.Id) SendPeer(new NodePing(node.Id, peer));
        }
        if (r.IsQuiescent && !r.IsLeader)
        {
            long silence = r.LeaderHint is { } leader && node.LastHeardUs.TryGetValue(leader, out long heard) ? _now - heard : long.MaxValue;
            if (silence > _p.ElectionTimeoutTicks * _p.TickUs)
            {
                if (_trace is not null) Trace($"n{node.Id} wakes: leader n{r.LeaderHint} silent");
                r.Wake();
                _faults.WokenByLiveness++;
            }
        }
    }

    private void OnBecameLeader(SimNode node)
    {
        _faults.LeaderChanges++;
        if (_trace is not null) Trace($"n{node.Id} LEADER ballot={node.Replica!.LeaderBallot} chosen={node.Replica.ChosenPrefix}");
    }

    /// <summary>
    /// Takes the replica's output and handles it in order: the early messages (a leader's Accepts) at once, even while
    /// earlier Readies are still being written; then, Ready after Ready, persist (synced), report it durable, send the
    /// rest, apply.
    /// </summary>
    private void Pump(SimNode node)
    {
        var ready = node.Replica!.TakeReady();
        if (!ready.IsEmpty)
        {
            for (int i = 0; i < ready.EarlyMessageCount; i++)
            {
                // Only a leader's proposals at its own ballot, durably promised, may overtake the write (PAXOS.md §10):
                // anything else states durable state, and an undurable ballot could be reused after a crash.
                if (ready.Messages[i] is not Accept accept || accept.Ballot.ReplicaId != node.Id || accept.Ballot > node.Disk.HardState.Promised)
                    _agreement.Violations.Add($"EARLY: n{node.Id} may send {MessageFormat.Describe(ready.Messages[i])} before its write");
                SendPeer(ready.Messages[i]);
            }
            _faults.EarlyMessages += ready.EarlyMessageCount;
            node.PendingReadies.Enqueue(ready);
        }
        ProcessReadies(node);
    }

    private void ProcessReadies(SimNode node)
    {
        bool reported = false;
        while (!node.SyncInFlight && node.PendingReadies.TryDequeue(out var ready))
        {
            if (!ready.MustSync)
            {
                if (ready.MustWrite) node.Disk.WriteUnsynced(ready);
                Durable(node, ready);
                reported = true;
                continue;
            }
            int incarnation = node.Incarnation;
            long syncDone = _now + _rng.NextInt64(_p.FsyncMinUs, _p.FsyncMaxUs + 1);
            if (_p.HostMutation == HostMutation.AckBeforeDurable)
            {
                // The planted bug: reply first, write later. A crash in between forgets promises and accepts.
                Complete(node, ready);
                At(syncDone, () =>
                {
                    if (node.Incarnation != incarnation) return;
                    node.Disk.Write(ready);
                    node.Replica!.Persisted(ready.Sequence);
                    Pump(node);
                });
                continue;
            }
            node.SyncInFlight = true;
            At(syncDone, () =>
            {
                if (node.Incarnation != incarnation) return; // crashed before the sync returned: the writes are lost
                node.Disk.Write(ready);
                node.SyncInFlight = false;
                Durable(node, ready);
                Pump(node); // what the report produced, then the Readies queued meanwhile
            });
            break;
        }
        // A durable write may let the leader count its own acceptance and choose slots: take what that produced.
        if (reported) Pump(node);
    }

    /// <summary>The Ready's writes are durable (or it had none): report it, then send the rest and apply.</summary>
    private void Durable(SimNode node, Ready ready)
    {
        node.Replica!.Persisted(ready.Sequence);
        Complete(node, ready);
    }

    private void Complete(SimNode node, Ready ready)
    {
        var r = node.Replica!;
        foreach (var e in ready.Entries)
            _agreement.OnAcceptance(node.Id, e.Slot, e.Ballot, e.Value);
        for (int i = ready.EarlyMessageCount; i < ready.Messages.Count; i++) SendPeer(ready.Messages[i]); // the early ones left at Pump
        if (ready.SnapshotToApply is { } snapshot)
        {
            node.StateMachine.Restore(snapshot.Data);
            node.SmAppliedUpTo = snapshot.Index;
            _faults.SnapshotsInstalled++;
            if (_trace is not null) Trace($"n{node.Id} installed snapshot index={snapshot.Index}");
        }
        foreach (var chosen in ready.Chosen)
        {
            if (chosen.Slot != node.SmAppliedUpTo)
                _agreement.Violations.Add($"APPLY ORDER: n{node.Id} got slot {chosen.Slot} while expecting {node.SmAppliedUpTo}");
            _agreement.OnApplied(node.Id, chosen.Slot, chosen.Value);
            node.SmAppliedUpTo = chosen.Slot + 1;
            foreach (var command in chosen.Value.Commands)
            {
                node.StateMachine.Apply(command);
                if (node.PendingWrites.Remove((command.ClientId, command.Sequence), out int client))
                    ReplyToClient(node.Id, client, forWrite: true, command.Sequence, ok: true, value: null, hint: null);
            }
            if (chosen.Value.Kind == SlotValueKind.Membership) _faults.MembershipChanges++;
        }
        foreach (var read in ready.ReadsReady)
        {
            if (!node.PendingReads.Remove(read.ReadId, out var pending)) continue;
            if (node.SmAppliedUpTo < read.Index)
                _agreement.Violations.Add($"READ: n{node.Id} served read at applied {node.SmAppliedUpTo} < index {read.Index}");
            ReplyToClient(node.Id, pending.Client, forWrite: false, pending.OpId, ok: true, node.StateMachine.Get(pending.Key), hint: null);
        }
        foreach (long failed in ready.ReadsFailed)
            if (node.PendingReads.Remove(failed, out var pending))
                ReplyToClient(node.Id, pending.Client, forWrite: false, pending.OpId, ok: false, value: null, r.LeaderHint);
        foreach (var abandoned in ready.AbandonedProposals)
            if (node.PendingWrites.Remove((abandoned.ClientId, abandoned.Sequence), out int client))
                ReplyToClient(node.Id, client, forWrite: true, abandoned.Sequence, ok: false, value: null, r.LeaderHint);
        if (node.SmAppliedUpTo - r.SnapshotIndex >= _p.CompactEverySlots && node.SmAppliedUpTo <= r.AppliedUpTo)
        {
            var data = node.StateMachine.TakeSnapshot();
            _agreement.OnSnapshot(node.Id, node.SmAppliedUpTo, data);
            r.Compact(node.SmAppliedUpTo, data);
            At(_now, () => { if (node.Replica == r) Pump(node); });
        }
    }

    private void Crash(SimNode node)
    {
        if (!node.IsUp) return;
        _faults.Crashes++;
        if (_trace is not null) Trace($"n{node.Id} CRASH");
        node.Replica = null;
        node.Disk.Crash(_rng.Next(node.Disk.UnsyncedCount + 1));
        node.Incarnation++;
        node.PendingReadies.Clear();
        node.SyncInFlight = false;
        node.LastHeardUs.Clear();
        node.PendingWrites.Clear();
        node.PendingReads.Clear();
    }

    private void SendPeer(PaxosMessage m)
    {
        _faults.MessagesSent++;
        if (Blocked(m.From, m.To)) return;
        if (_rng.NextDouble() < EffectiveLoss)
        {
            _faults.MessagesLost++;
            return;
        }
        int copies = _rng.NextDouble() < EffectiveDuplication ? 2 : 1;
        if (copies == 2) _faults.MessagesDuplicated++;
        for (int i = 0; i < copies; i++)
        {
            At(_now + Delay(), () =>
            {
                if (!_nodes.TryGetValue(m.To, out var target) || target.Replica is not { } r) return;
                target.LastHeardUs[m.From] = _now;
                if (m is NodePing) return; // the host's own liveness message, not the replica's
                if (_trace is not null) Trace($"deliver {MessageFormat.Describe(m)}");
                bool wasLeader = r.IsLeader;
                r.Step(m);
                if (!wasLeader && r.IsLeader) OnBecameLeader(target);
                Pump(target);
            });
        }
    }

    private double EffectiveLoss => _healed ? 0 : _p.LossRate;
    private double EffectiveDuplication => _healed ? 0 : _p.DuplicateRate;

    private long Delay()
    {
        long d = _rng.NextInt64(_p.DelayMinUs, _p.DelayMaxUs + 1);
        if (!_healed && _rng.NextDouble() < _p.DelaySpikeRate) d += _rng.NextInt64(_p.DelaySpikeMaxUs);
        return d;
    }
}
