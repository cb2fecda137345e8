using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>PAXOS.md §8: idle groups quiesce, wake on activity, and never keep a lease through a quiet spell.</summary>
public class QuiescenceTests
{
    private static TestCluster Cluster(int quiesceAfter = 6) =>
        new(3, id => new ReplicaOptions { ReplicaId = id, HeartbeatIntervalTicks = 2, ElectionTimeoutTicks = 10, QuiesceAfterTicks = quiesceAfter });

    /// <summary>Runs until every replica is quiescent, and not a tick longer (as a host that skips their ticks).</summary>
    private static Replica Quiesced(TestCluster c)
    {
        var leader = c.ElectLeader();
        leader.Propose(TestCluster.Cmd(1, 1));
        for (int round = 0; round < 50 && !c.Replicas.Values.All(r => r.IsQuiescent); round++) c.Run(1);
        Assert.All(c.Replicas.Values, r => Assert.True(r.IsQuiescent, $"replica {r.Id} is not quiescent"));
        return leader;
    }

    [Fact]
    public void IdleCaughtUpGroup_Quiesces_AndSendsNothing()
    {
        var c = Cluster();
        Quiesced(c);
        long delivered = c.Delivered;
        c.Run(100);
        Assert.Equal(delivered, c.Delivered);
        Assert.Null(c.Replicas.Values.FirstOrDefault(r => r.Role == ReplicaRole.Candidate));
    }

    [Fact]
    public void QuiescenceIsOff_ByDefault()
    {
        var c = Cluster(quiesceAfter: 0);
        var leader = c.ElectLeader();
        c.Run(50);
        Assert.All(c.Replicas.Values, r => Assert.False(r.IsQuiescent));
    }

    [Fact]
    public void QuiescentLeader_HoldsNoLease_AndAProposalWakesTheGroup()
    {
        var c = Cluster();
        var leader = Quiesced(c);
        Assert.False(leader.HoldsLease);
        Assert.Equal(RequestStatus.Accepted, leader.Propose(TestCluster.Cmd(1, 2)));
        Assert.False(leader.IsQuiescent);
        long before = leader.ChosenPrefix;
        c.Run(3);
        Assert.True(leader.ChosenPrefix > before);
        Assert.All(c.Replicas.Values.Where(r => r != leader), r => Assert.Contains(c.Applied[r.Id], e => e.Value.Commands.Any(x => x.Sequence == 2)));
    }

    [Fact]
    public void ReadAfterQuiescence_NeedsAFreshQuorumRound_EvenIfNoTickPassed()
    {
        // The host skipped the ticks of the quiet spell, so the leader's clock says no time passed. The lease it had
        // before must not count: the read waits for a heartbeat round sent after it.
        var c = Cluster();
        var leader = Quiesced(c);
        foreach (int id in c.Up.Where(id => id != leader.Id)) c.Isolate(id);
        Assert.Equal(RequestStatus.Accepted, leader.RequestRead(9));
        Assert.False(leader.HoldsLease);
        c.Run(3);
        Assert.DoesNotContain(c.ReadsReady[leader.Id], r => r.ReadId == 9);
        c.Heal();
        c.Run(3);
        Assert.Contains(c.ReadsReady[leader.Id], r => r.ReadId == 9);
    }

    [Fact]
    public void AcksOfTheQuiescingRound_GiveNoLease()
    {
        var c = Cluster();
        var leader = Quiesced(c);
        // Every answer to the last round has been delivered; the leader is still quiescent and leaseless.
        Assert.True(leader.IsQuiescent);
        Assert.False(leader.HoldsLease);
        leader.Wake();
        Assert.False(leader.HoldsLease);
    }

    [Fact]
    public void FollowersOfADeadLeader_WokenByTheHost_ElectANewOne()
    {
        var c = Cluster();
        var leader = Quiesced(c);
        c.Crash(leader.Id);
        // Quiescent followers do nothing however long they tick...
        foreach (int id in c.Up) c.Tick(id, 50);
        Assert.Null(c.Leader);
        // ...until their host notices the leader's node is gone.
        foreach (int id in c.Up) c.Replicas[id].Wake();
        var next = c.ElectLeader();
        Assert.NotEqual(leader.Id, next.Id);
    }

    [Fact]
    public void AFollowerThatMissedTheQuiescingRound_StaysAwake_AndItsTimerWakesTheGroup()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        int lagging = c.Up.First(id => id != leader.Id);
        leader.Propose(TestCluster.Cmd(1, 1));
        c.Run(3);
        c.Blocked.Add((leader.Id, lagging));
        c.Run(20); // the leader cannot quiesce while a peer's acks are stale
        Assert.False(leader.IsQuiescent);
        c.Heal();
        c.Run(30);
        Assert.True(c.Replicas.Values.All(r => r.IsQuiescent) || c.Leader is not null);
        Assert.Equal(leader.ChosenPrefix, c.Replicas[lagging].ChosenPrefix);
    }
}
