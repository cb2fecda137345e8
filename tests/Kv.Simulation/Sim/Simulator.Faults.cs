using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>Partitions, crashes, drift changes, membership changes, and the healing that ends the fault phase.</summary>
public sealed partial class Simulator
{
    /// <summary>Blocked directed links (from, to); symmetric partitions block both directions.</summary>
    private readonly HashSet<(int From, int To)> _blocked = [];

    private bool Blocked(int from, int to) => _blocked.Count > 0 && _blocked.Contains((from, to));

    private void ScheduleFaults()
    {
        if (_p.PartitionEveryUs > 0) At(Exp(_p.PartitionEveryUs), ChangePartition);
        if (_p.CrashEveryUs > 0) At(Exp(_p.CrashEveryUs), CrashSomeone);
    }

    private long Exp(long mean) => _now + (long)(-Math.Log(1 - _rng.NextDouble()) * mean) + 1;

    private void ChangePartition()
    {
        if (_healed) return;
        _blocked.Clear();
        var ids = _nodes.Keys.Order().ToList();
        switch (_p.PartitionsIsolateLeader ? 4 : _rng.Next(5))
        {
            case 0: // heal
                Trace("partition: healed");
                break;
            case 1: // isolate one node both ways
            {
                int victim = ids[_rng.Next(ids.Count)];
                foreach (int o in ids.Where(o => o != victim)) { _blocked.Add((victim, o)); _blocked.Add((o, victim)); }
                if (_trace is not null) Trace($"partition: isolate n{victim}");
                break;
            }
            case 2: // split into two sides
            {
                var side = ids.Where(_ => _rng.Next(2) == 0).ToHashSet();
                foreach (int a in ids) foreach (int b in ids)
                    if (side.Contains(a) != side.Contains(b)) _blocked.Add((a, b));
                if (_trace is not null) Trace($"partition: split [{string.Join(",", side)}] | rest");
                break;
            }
            case 3: // one-way: a node can send but not receive (or the reverse)
            {
                int victim = ids[_rng.Next(ids.Count)];
                bool inbound = _rng.Next(2) == 0;
                foreach (int o in ids.Where(o => o != victim)) _blocked.Add(inbound ? (o, victim) : (victim, o));
                if (_trace is not null) Trace($"partition: one-way {(inbound ? "into" : "out of")} n{victim}");
                break;
            }
            default: // the current leader (if any) loses its outbound links: the classic stale-leader setup
            {
                var leader = _nodes.Values.FirstOrDefault(n => n.Replica?.IsLeader == true);
                if (leader is not null)
                    foreach (int o in ids.Where(o => o != leader.Id)) { _blocked.Add((o, leader.Id)); _blocked.Add((leader.Id, o)); }
                if (_trace is not null) Trace($"partition: isolate leader {leader?.Id}");
                break;
            }
        }
        if (_blocked.Count > 0) _faults.Partitions++;
        At(Exp(_p.PartitionEveryUs), ChangePartition);
    }

    private void CrashSomeone()
    {
        if (_healed) return;
        var up = _nodes.Values.Where(n => n.IsUp).OrderBy(n => n.Id).ToList();
        if (up.Count > 0)
        {
            var victim = up[_rng.Next(up.Count)];
            if (_p.CrashesTargetLeader && up.FirstOrDefault(n => n.Replica!.IsLeader) is { } leader) victim = leader;
            Crash(victim);
            At(_now + _rng.NextInt64(1_000, _p.RestartAfterMaxUs), () => { if (!victim.IsUp && !_healed && victim.Member) StartNode(victim); });
        }
        At(Exp(_p.CrashEveryUs), CrashSomeone);
    }

    private void Heal()
    {
        _healed = true;
        _blocked.Clear();
        Trace("HEAL");
        foreach (var node in _nodes.Values.OrderBy(n => n.Id))
            if (!node.IsUp && node.Member) StartNode(node);
    }

    /// <summary>
    /// Adds a new replica as a learner, promotes it once caught up, then removes one of the originals, each
    /// through the log, while the other faults go on.
    /// </summary>
    private void ScheduleMembershipChanges()
    {
        int newcomer = _p.Replicas + 1;
        int removed = 1 + _rng.Next(_p.Replicas);
        var steps = new[]
        {
            new MembershipChange(MembershipChangeKind.AddLearner, newcomer),
            new MembershipChange(MembershipChangeKind.PromoteLearner, newcomer),
            new MembershipChange(MembershipChangeKind.Remove, removed),
        };
        At(_rng.NextInt64(50_000, 150_000), () =>
        {
            var node = new SimNode(newcomer, PersistentState.Joining());
            _nodes[newcomer] = node;
            StartNode(node);
            DriveMembership(steps, 0);
        });
    }

    private void DriveMembership(MembershipChange[] steps, int index)
    {
        if (index >= steps.Length) return;
        var change = steps[index];
        var leader = _nodes.Values.Where(n => n.Replica?.IsLeader == true).OrderByDescending(n => n.Replica!.LeaderBallot).FirstOrDefault();
        if (leader is not null)
        {
            var cfg = leader.Replica!.LatestConfiguration!;
            bool done = change.Kind switch
            {
                MembershipChangeKind.AddLearner => cfg.IsLearner(change.ReplicaId) || cfg.IsVoter(change.ReplicaId),
                MembershipChangeKind.PromoteLearner => cfg.IsVoter(change.ReplicaId),
                _ => !cfg.IsVoter(change.ReplicaId) && !cfg.IsLearner(change.ReplicaId),
            };
            if (done)
            {
                if (_trace is not null) Trace($"membership: {change} in force as {cfg}");
                if (change.Kind == MembershipChangeKind.Remove && _nodes.TryGetValue(change.ReplicaId, out var gone))
                {
                    gone.Member = false;
                    At(_now + 50_000, () => { if (!gone.Member) Crash(gone); }); // decommission after it stops mattering
                }
                At(_now + _rng.NextInt64(10_000, 50_000), () => DriveMembership(steps, index + 1));
                return;
            }
            var status = leader.Replica.ProposeMembership(change);
            if (_trace is not null) Trace($"membership: propose {change} at n{leader.Id}: {status}");
            Pump(leader);
        }
        At(_now + 5_000, () => DriveMembership(steps, index));
    }

    /// <summary>After healing: every member is up and has applied everything its leader has chosen.</summary>
    private bool Converged()
    {
        var members = _nodes.Values.Where(n => n.Member).ToList();
        if (members.Any(n => !n.IsUp)) return false;
        var leader = members.FirstOrDefault(n => n.Replica!.IsLeader);
        if (leader is null) return false;
        long target = leader.Replica!.ChosenPrefix;
        var config = leader.Replica.LatestConfiguration!;
        return members.Where(n => config.IsVoter(n.Id) || config.IsLearner(n.Id)).All(n => n.SmAppliedUpTo >= target);
    }
}
