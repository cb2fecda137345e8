namespace Kv.Paxos;

/// <summary>Catch-up of lagging replicas with chosen values or a snapshot, and log compaction (PAXOS.md §7).</summary>
public sealed partial class Replica
{
    /// <summary>
    /// Replaces the log below <paramref name="index"/> with a snapshot of the state machine taken after applying
    /// every slot below it. The host persists the snapshot from the next Ready (and may then delete the log below).
    /// </summary>
    public void Compact(long index, ReadOnlyMemory<byte> data)
    {
        if (index > _appliedUpTo) throw new ArgumentOutOfRangeException(nameof(index), $"Only slots below {_appliedUpTo} are applied.");
        if (index <= _snapshot.Index || _configs is null) return;
        _snapshot = new Snapshot(index, _configs.ForSnapshot(index), data);
        _log.TruncateBelow(index);
        _outSnapshot = _snapshot;
    }

    /// <summary>Sends a lagging peer the next chosen values it lacks, or the snapshot when they are compacted.</summary>
    private void SendCatchUp(int peerId, PeerProgress peer, bool force)
    {
        if (!force && _now - peer.CatchUpSentTick < _options.RetransmitTicks) return;
        peer.CatchUpSentTick = _now;
        SendCatchUpFrom(peerId, peer.ChosenPrefix, _leader!.Ballot);
    }

    private void SendCatchUpFrom(int peerId, long fromSlot, Ballot ballot)
    {
        if (fromSlot < _log.FirstSlot)
        {
            Send(new InstallSnapshot(Id, peerId, ballot, _snapshot));
            return;
        }
        var slots = new List<ProposedSlot>();
        long end = Math.Min(_chosenPrefix, fromSlot + _options.CatchUpSlotsPerMessageMax);
        long bytes = 0;
        for (long s = fromSlot; s < end; s++)
        {
            if (!_log.TryGet(s, out var e)) break;
            bytes += e.Value.SizeBytes;
            if (slots.Count > 0 && bytes > _options.MessageValueBytesMax) break; // the rest follows on the ack
            slots.Add(new ProposedSlot(s, e.Value));
        }
        if (slots.Count > 0) Send(new ChosenValues(Id, peerId, ballot, slots));
    }

    /// <summary>
    /// The chosen prefix as reported to peers: -1 while joining, which tells the leader that only a snapshot
    /// (carrying the configurations) can start this replica.
    /// </summary>
    private long ReportedChosenPrefix => _configs is null ? -1 : _chosenPrefix;

    // What each peer that asked this replica (not leading) for catch-up last reported: the next batch goes only on
    // an ack that shows progress beyond it.
    private readonly Dictionary<int, long> _catchUpReported = [];

    private void OnCatchUpRequest(CatchUpRequest m)
    {
        if (m.FromSlot < _chosenPrefix && _configs is not null)
        {
            _catchUpReported[m.From] = m.FromSlot;
            SendCatchUpFrom(m.From, m.FromSlot, _promised);
        }
    }

    private void OnChosenValues(ChosenValues m)
    {
        // A leader learns only from its own quorums, so that what it declares chosen at its ballot is (PAXOS.md §3.2).
        if (_leader is not null || _configs is null) return;
        foreach (var chosen in m.Slots)
        {
            if (chosen.Slot < _log.FirstSlot) continue;
            if (_log.TryGet(chosen.Slot, out var existing) && existing.Chosen) continue;
            var ballot = existing.Value is not null && existing.Value.ContentEquals(chosen.Value) ? existing.Ballot : Ballot.Zero;
            Persist(new LogEntry(chosen.Slot, ballot, chosen.Value, Chosen: true));
        }
        AdvanceChosenPrefix();
        Send(new CatchUpAck(Id, m.From, m.Ballot, ReportedChosenPrefix));
    }

    private void OnInstallSnapshot(InstallSnapshot m)
    {
        if (_leader is not null) return;
        var snapshot = m.Snapshot;
        bool joining = _configs is null && snapshot.Configurations.Count > 0;
        if (snapshot.Index > _chosenPrefix || joining)
        {
            _snapshot = snapshot;
            _log.TruncateBelow(snapshot.Index);
            _configs = new ConfigHistory(snapshot.Configurations);
            _chosenPrefix = snapshot.Index;
            _appliedUpTo = snapshot.Index;
            _outSnapshot = snapshot;
            _outSnapshotToApply = snapshot;
            AdvanceChosenPrefix();
        }
        Send(new CatchUpAck(Id, m.From, m.Ballot, ReportedChosenPrefix));
    }

    private void OnCatchUpAck(CatchUpAck m)
    {
        var leader = _leader;
        if (leader is null)
        {
            // Catch-up asked of a non-leader goes on while the asker makes progress. As below, a duplicated or stale
            // ack earns nothing: otherwise duplicates multiply the send-ack loops (simulator seed 17, lease-attack).
            if (_catchUpReported.TryGetValue(m.From, out long reported) && m.ChosenPrefix <= reported) return;
            _catchUpReported[m.From] = m.ChosenPrefix;
            if (m.ChosenPrefix < _chosenPrefix && _configs is not null) SendCatchUpFrom(m.From, m.ChosenPrefix, _promised);
            return;
        }
        if (m.Ballot != leader.Ballot) return;
        var peer = leader.Peer(m.From, _now);
        // Only an ack that shows progress earns the next batch at once; a duplicated or stale one waits for the
        // retransmit interval. Otherwise every duplicate would start one more send-ack loop, and duplication would
        // multiply them without bound (simulator seed 517555).
        bool progressed = m.ChosenPrefix > peer.ChosenPrefix;
        peer.ChosenPrefix = m.ChosenPrefix;
        peer.LastAckTick = _now;
        if (peer.ChosenPrefix < _chosenPrefix) SendCatchUp(m.From, peer, force: progressed);
    }
}
