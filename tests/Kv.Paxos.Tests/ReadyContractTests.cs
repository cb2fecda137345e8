using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>The Ready contract: what a reply depends on is in the same Ready's durable part.</summary>
public class ReadyContractTests
{
    [Fact]
    public void Promise_IsInTheDurablePartOfTheReadyThatCarriesTheReply()
    {
        var c = new TestCluster(3);
        var r = c[2];
        c.Tick(2, 30); // long silence: it may promise now
        c.Network.Clear();
        r.Step(new Prepare(3, 2, new Ballot(7, 3), 0, PreVote: false, TransferFrom: null));
        var ready = r.TakeReady();
        Assert.True(ready.MustSync);
        Assert.Equal(new Ballot(7, 3), ready.HardState!.Value.Promised);
        Assert.True(ready.Messages.OfType<Promise>().Single().Granted);
    }

    [Fact]
    public void ChosenPrefixAdvance_NeedsAWriteButNoSync_AndAPromiseAlwaysSyncs()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        c.Run(3);
        Assert.Contains(c.Readies[leader.Id], r => r.HardState is not null && r.HardStateMustSync && r.MustSync); // its own promise
        int before = c.Readies[leader.Id].Count;
        leader.Propose(TestCluster.Cmd(1, 1));
        c.Run(3);
        Assert.Single(c.Commands(leader.Id));
        // The Ready that applied the command: the chosen prefix advanced, nothing else to write.
        var applying = c.Readies[leader.Id].Skip(before).Single(r => r.Chosen.Count > 0);
        Assert.NotNull(applying.HardState);
        Assert.False(applying.HardStateMustSync);
        Assert.True(applying.MustWrite);
        Assert.False(applying.MustSync);
        Assert.Empty(applying.Entries);
    }

    [Fact]
    public void Accept_IsPersistedInTheReadyThatCarriesAccepted()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        c.Run(3);
        leader.Propose(TestCluster.Cmd(1, 1));
        var leaderReady = leader.TakeReady();
        var accept = leaderReady.Messages.OfType<Accept>().First();
        Assert.Contains(leaderReady.Entries, e => e.Slot == accept.Slots[0].Slot && e.Ballot == accept.Ballot); // the leader's own accept
        var follower = c[accept.To];
        follower.Step(accept);
        var ready = follower.TakeReady();
        Assert.Contains(ready.Entries, e => e.Slot == accept.Slots[0].Slot && e.Ballot == accept.Ballot);
        Assert.Contains(ready.Messages, m => m is Accepted);
    }

    [Fact]
    public void Acceptor_RejectsAcceptBelowItsPromise_AndTheStaleLeaderStepsDown()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        int f = c.Up.First(id => id != leader.Id);
        c.Tick(f, 30);
        c.Network.Clear();
        var higher = new Ballot(leader.LeaderBallot!.Value.Round + 5, f == 3 ? 2 : 3);
        // The follower promised a higher ballot after hearing nothing for long: the old leader's Accept is rejected.
        c.Isolate(leader.Id);
        c.Tick(f, 30);
        c[f].Step(new Prepare(higher.ReplicaId, f, higher, 0, false, null));
        c.Pump(f);
        c.Heal();
        c.Network.Clear();
        leader.Propose(TestCluster.Cmd(1, 1));
        c.Pump(leader.Id);
        var acceptToF = c.Network.OfType<Accept>().First(a => a.To == f);
        c.Network.Clear();
        c[f].Step(acceptToF);
        var rejected = c[f].TakeReady().Messages.OfType<Rejected>().Single();
        Assert.Equal(higher, rejected.Promised);
        leader.Step(rejected);
        Assert.False(leader.IsLeader);
    }
}
