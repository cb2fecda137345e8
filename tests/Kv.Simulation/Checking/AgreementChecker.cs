using Kv.Paxos;

namespace Kv.Simulation.Checking;

/// <summary>
/// Watches every acceptance and every applied value in a run and reports:
/// <list type="bullet">
/// <item>a ballot's owner proposing two values for one slot;</item>
/// <item>two different values chosen for one slot, where "chosen" is computed independently of what replicas
/// believe: a quorum (of the configuration governing the slot) accepted it at one ballot;</item>
/// <item>a replica applying, at some slot, a value that differs from what another replica applied there or from
/// the value chosen there (so every applied sequence is a prefix of one history);</item>
/// <item>two replicas' state-machine snapshots at the same index that differ.</item>
/// </list>
/// </summary>
public sealed class AgreementChecker
{
    private readonly int _effectDelaySlots;
    private readonly ConfigHistory _configs;
    private readonly Dictionary<(long Slot, Ballot Ballot), (SlotValue Value, HashSet<int> Voters)> _votes = new();
    private readonly Dictionary<long, SlotValue> _chosen = new();
    private readonly Dictionary<long, SlotValue> _applied = new();
    private readonly Dictionary<long, string> _snapshotHashes = new();
    private readonly HashSet<(long Slot, Ballot Ballot)> _deferred = new();
    private long _chosenPrefix;

    public AgreementChecker(Configuration initial, int effectDelaySlots)
    {
        _effectDelaySlots = effectDelaySlots;
        _configs = new ConfigHistory([new ConfigHistoryEntry(0, -1, initial)]);
    }

    public List<string> Violations { get; } = [];

    public int ChosenSlots => _chosen.Count;

    /// <summary>Replica <paramref name="replica"/> accepted <paramref name="value"/> at <paramref name="ballot"/> for a slot.</summary>
    public void OnAcceptance(int replica, long slot, Ballot ballot, SlotValue value)
    {
        if (ballot.IsZero) return;
        var key = (slot, ballot);
        if (_votes.TryGetValue(key, out var tally))
        {
            if (!tally.Value.ContentEquals(value))
                Violations.Add($"ballot {ballot} proposed two values for slot {slot}: {tally.Value} and {value}");
        }
        else
        {
            tally = (value, new HashSet<int>());
            _votes[key] = tally;
        }
        tally.Voters.Add(replica);
        Evaluate(key);
    }

    private void Evaluate((long Slot, Ballot Ballot) key)
    {
        // The configuration of a slot is known once every slot α below it is chosen.
        if (key.Slot >= _chosenPrefix + _effectDelaySlots)
        {
            _deferred.Add(key);
            return;
        }
        var (value, voters) = _votes[key];
        if (!_configs.At(key.Slot).IsQuorum(voters)) return;
        if (_chosen.TryGetValue(key.Slot, out var chosen))
        {
            if (!chosen.ContentEquals(value))
                Violations.Add($"AGREEMENT: slot {key.Slot} chosen twice: {chosen} and {value} (quorum at ballot {key.Ballot}: {string.Join(",", voters.Order())})");
            return;
        }
        _chosen[key.Slot] = value;
        if (_applied.TryGetValue(key.Slot, out var applied) && !applied.ContentEquals(value))
            Violations.Add($"slot {key.Slot}: applied {applied} but chosen {value}");
        AdvancePrefix();
    }

    private void AdvancePrefix()
    {
        long before = _chosenPrefix;
        while (_chosen.TryGetValue(_chosenPrefix, out var v))
        {
            if (v.Kind == SlotValueKind.Membership) _configs.Record(_chosenPrefix, v.Change, _effectDelaySlots);
            _chosenPrefix++;
        }
        if (_chosenPrefix == before || _deferred.Count == 0) return;
        var ready = _deferred.Where(k => k.Slot < _chosenPrefix + _effectDelaySlots).ToList();
        foreach (var k in ready)
        {
            _deferred.Remove(k);
            Evaluate(k);
        }
    }

    /// <summary>Replica <paramref name="replica"/> applied <paramref name="value"/> at <paramref name="slot"/>.</summary>
    public void OnApplied(int replica, long slot, SlotValue value)
    {
        if (_applied.TryGetValue(slot, out var first))
        {
            if (!first.ContentEquals(value))
                Violations.Add($"PREFIX: replica {replica} applied {value} at slot {slot}, another applied {first}");
        }
        else
        {
            _applied[slot] = value;
        }
        if (_chosen.TryGetValue(slot, out var chosen) && !chosen.ContentEquals(value))
            Violations.Add($"replica {replica} applied {value} at slot {slot} but {chosen} was chosen");
    }

    /// <summary>A replica's state machine, serialized after applying every slot below <paramref name="index"/>.</summary>
    public void OnSnapshot(int replica, long index, ReadOnlySpan<byte> data)
    {
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data));
        if (_snapshotHashes.TryGetValue(index, out var other))
        {
            if (other != hash) Violations.Add($"STATE: replica {replica}'s state at index {index} differs from another replica's");
        }
        else
        {
            _snapshotHashes[index] = hash;
        }
    }
}
