using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>PAXOS.md §6: membership through the log, one change at a time, learners, and leadership transfer.</summary>
public class MembershipTests
{
    private static TestCluster Cluster() => new(3, id => new ReplicaOptions { ReplicaId = id, InflightSlotsMax = 8 });

    [Fact]
    public void Learner_IsAdded_CatchesUp_IsPromoted_ThenCountsInQuorums()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        for (int i = 1; i <= 20; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Run(5);
        c.Add(4, PersistentState.Joining());
        Assert.Equal(RequestStatus.Accepted, leader.ProposeMembership(new MembershipChange(MembershipChangeKind.AddLearner, 4)));
        Assert.Equal(RequestStatus.Refused, leader.ProposeMembership(new MembershipChange(MembershipChangeKind.Remove, 1)));
        c.Run(30);
        Assert.True(leader.LatestConfiguration!.IsLearner(4));
        Assert.Equal(leader.ChosenPrefix, c[4].ChosenPrefix); // caught up: it received a snapshot, then values
        Assert.False(c[4].IsLeader);
        Assert.Equal(RequestStatus.Accepted, leader.ProposeMembership(new MembershipChange(MembershipChangeKind.PromoteLearner, 4)));
        c.Run(30);
        Assert.True(leader.LatestConfiguration!.IsVoter(4));
        Assert.Equal(3, leader.LatestConfiguration.QuorumSize);
        // With two voters cut off, 2 of 4 is no quorum: nothing is chosen.
        c.Isolate(2);
        c.Isolate(3);
        long before = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 99));
        c.Run(3);
        Assert.Equal(before, leader.ChosenPrefix);
        c.Heal();
        c.Run(10);
        Assert.Contains(c.Commands(4), x => x.Sequence == 99);
    }

    [Fact]
    public void Learner_ThatLags_IsNotPromoted()
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, InflightSlotsMax = 8, BatchCommandsMax = 1 });
        var leader = c.ElectLeader();
        c.Add(4, PersistentState.Joining());
        leader.ProposeMembership(new MembershipChange(MembershipChangeKind.AddLearner, 4));
        c.Run(20);
        c.Isolate(4);
        for (int i = 1; i <= 200; i++) { leader.Propose(TestCluster.Cmd(1, i)); if (i % 10 == 0) c.Run(1); }
        c.Run(5);
        Assert.Equal(RequestStatus.Refused, leader.ProposeMembership(new MembershipChange(MembershipChangeKind.PromoteLearner, 4)));
    }

    [Fact]
    public void RemovedVoter_NoLongerCountsAndTheRestKeepGoing()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        int removed = c.Up.First(id => id != leader.Id);
        leader.ProposeMembership(new MembershipChange(MembershipChangeKind.Remove, removed));
        c.Run(30);
        Assert.False(leader.LatestConfiguration!.IsVoter(removed));
        Assert.Equal(2, leader.LatestConfiguration.QuorumSize);
        c.Crash(removed);
        leader.Propose(TestCluster.Cmd(1, 1));
        c.Run(5);
        Assert.All(c.Up, id => Assert.Single(c.Commands(id)));
    }

    [Fact]
    public void RemovingTheLeader_HandsLeadershipToARemainingVoter()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        leader.ProposeMembership(new MembershipChange(MembershipChangeKind.Remove, leader.Id));
        c.Run(60);
        var next = c.Leader;
        Assert.NotNull(next);
        Assert.NotEqual(leader.Id, next!.Id);
        next.Propose(TestCluster.Cmd(1, 1));
        c.Run(5);
        Assert.Single(c.Commands(next.Id));
    }

    [Fact]
    public void LeaderTransfer_TargetLeadsWithinAFewRounds_AndTheOldLeaseIsRevoked()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        c.Run(3);
        Assert.True(leader.HoldsLease);
        int target = c.Up.First(id => id != leader.Id);
        Assert.Equal(RequestStatus.Accepted, leader.TransferLeadership(target));
        Assert.False(leader.HoldsLease);
        c.Deliver();
        Assert.True(c[target].IsLeader); // no election timeout waited for
        Assert.False(leader.IsLeader);
        Assert.Equal(RequestStatus.Refused, c[target].TransferLeadership(99));
    }

    [Fact]
    public void StaleTimeoutNow_FromAnOldLeader_IsIgnored()
    {
        var c = Cluster();
        var leader = c.ElectLeader();
        var oldBallot = leader.LeaderBallot!.Value;
        c.Crash(leader.Id);
        var next = c.ElectLeader();
        int other = c.Up.First(id => id != next.Id);
        c[other].Step(new TimeoutNow(leader.Id, other, oldBallot));
        c.Deliver();
        Assert.True(next.IsLeader);
        Assert.False(c[other].IsLeader);
    }
}
