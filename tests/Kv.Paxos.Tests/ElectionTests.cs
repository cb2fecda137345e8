using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

public class ElectionTests
{
    [Fact]
    public void Election_ElectsOneLeader_WhichOthersFollow()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        c.Run(20);
        Assert.Single(c.Replicas.Values, r => r.IsLeader);
        foreach (var r in c.Replicas.Values) Assert.Equal(leader.Id, r.LeaderHint);
    }

    [Fact]
    public void Election_LeaderCrashes_SurvivorsElectAHigherBallot()
    {
        var c = new TestCluster(3);
        var first = c.ElectLeader();
        var firstBallot = first.LeaderBallot!.Value;
        c.Crash(first.Id);
        var second = c.ElectLeader();
        Assert.NotEqual(first.Id, second.Id);
        Assert.True(second.LeaderBallot > firstBallot);
    }

    [Fact]
    public void Prepare_FromAnotherReplica_IsRefusedWhileTheLeaderIsLive()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        int follower = c.Up.First(id => id != leader.Id);
        int rogue = c.Up.First(id => id != leader.Id && id != follower);
        var high = new Ballot(100, rogue);
        c[follower].Step(new Prepare(rogue, follower, high, 0, PreVote: false, TransferFrom: null));
        var reply = c[follower].TakeReady().Messages.OfType<Promise>().Single();
        Assert.False(reply.Granted);
        Assert.True(c[follower].Promised < high); // nothing was promised
        // Once the leader has been silent for an election timeout, the same Prepare is granted.
        c.Isolate(leader.Id);
        c.Tick(follower, c[follower].Options.ElectionTimeoutTicks);
        c.Network.Clear();
        c[follower].Step(new Prepare(rogue, follower, high, 0, PreVote: false, TransferFrom: null));
        Assert.True(c[follower].TakeReady().Messages.OfType<Promise>().Single().Granted);
    }

    [Fact]
    public void PartitionedReplica_DoesNotRaiseBallots_SoItCannotDisruptTheLeaderWhenItReturns()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        var ballot = leader.LeaderBallot!.Value;
        int loner = c.Up.First(id => id != leader.Id);
        c.Isolate(loner);
        c.Run(200); // the loner campaigns again and again, but only with pre-votes that nobody answers
        Assert.True(c[loner].Promised <= ballot);
        c.Heal();
        c.Run(30);
        Assert.True(leader.IsLeader);
        Assert.Equal(ballot, leader.LeaderBallot);
    }

    [Fact]
    public void RestartedReplica_KeepsItsPromise_AndWaitsBeforePromisingAgain()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        var promised = c[2].Promised;
        c.Crash(2);
        c.Restart(2);
        Assert.Equal(promised, c[2].Promised);
        var high = new Ballot(50, 3);
        c[2].Step(new Prepare(3, 2, high, 0, PreVote: false, TransferFrom: null));
        Assert.False(c[2].TakeReady().Messages.OfType<Promise>().Single().Granted);
        c[2].Step(new Prepare(3, 2, new Ballot(0, 3), 0, PreVote: false, TransferFrom: null));
        Assert.False(c[2].TakeReady().Messages.OfType<Promise>().Single().Granted);
        _ = leader;
    }
}
