using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>
/// A leader's Accepts leave before its own write of the same slots is durable (PAXOS.md §10): it counts its own
/// acceptance only once the host reports that write with <see cref="Replica.Persisted"/>, so what it declares chosen
/// rests on durable acceptances only. The broken variant (counting itself at once) is run beside the real rule.
/// </summary>
public class EarlyAcceptTests
{
    private static (TestCluster Cluster, Replica Leader) SteadyLeader(
        ProtocolMutation mutation = ProtocolMutation.None, bool early = true)
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, LeaderAcceptsBeforeDurable = early, Mutation = mutation });
        var leader = c.ElectLeader();
        c.Run(3); // the tenure's recovery slots are chosen and every Ready handled
        c.Network.Clear();
        return (c, leader);
    }

    private static List<Accept> EarlyAccepts(Ready ready) => ready.Messages.Take(ready.EarlyMessageCount).Cast<Accept>().ToList();

    /// <summary>A follower accepts; the cluster writes its Ready, reports it and queues its answer; returns the answer.</summary>
    private static Accepted AcceptAndAnswer(TestCluster c, Accept accept)
    {
        c.Network.Clear();
        c[accept.To].Step(accept);
        c.Pump(accept.To);
        var accepted = c.Network.OfType<Accepted>().Single();
        c.Network.Clear();
        return accepted;
    }

    [Fact]
    public void LeaderAccepts_AreTheEarlyMessages_AndEverythingElseWaitsForTheWrite()
    {
        var (_, leader) = SteadyLeader();
        leader.Tick();
        leader.Tick(); // a heartbeat is due: it must wait for the write
        leader.Propose(TestCluster.Cmd(1, 1));
        var ready = leader.TakeReady();
        Assert.True(ready.MustSync);
        Assert.Equal(2, ready.EarlyMessageCount); // the new slot, to each follower
        Assert.All(EarlyAccepts(ready), a => Assert.Equal(leader.LeaderBallot, a.Ballot));
        var late = ready.Messages.Skip(ready.EarlyMessageCount).ToList();
        Assert.DoesNotContain(late, m => m is Accept);
        Assert.Contains(late, m => m is Heartbeat);
    }

    [Fact]
    public void WithTheOptionOff_NothingLeavesEarly_AndTheLeaderCountsItselfAtOnce()
    {
        var (c, leader) = SteadyLeader(early: false);
        long slot = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 1));
        var ready = leader.TakeReady();
        Assert.Equal(0, ready.EarlyMessageCount);
        var accept = ready.Messages.OfType<Accept>().First();
        leader.Step(AcceptAndAnswer(c, accept)); // the leader's own write is not reported, yet it counts
        Assert.Equal(slot + 1, leader.ChosenPrefix);
    }

    [Fact]
    public void Leader_DoesNotReportASlotChosen_FromItsOwnUnpersistedAccept()
    {
        var (c, leader) = SteadyLeader();
        long slot = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 1));
        var ready = leader.TakeReady(); // handed out, its write still running
        leader.Step(AcceptAndAnswer(c, EarlyAccepts(ready)[0]));
        // One durable acceptance (the follower's) of the three: not chosen, nothing to apply.
        Assert.Equal(slot, leader.ChosenPrefix);
        Assert.Empty(leader.TakeReady().Chosen);

        leader.Persisted(ready.Sequence); // now its own acceptance is durable: two of three
        Assert.Equal(slot + 1, leader.ChosenPrefix);
        Assert.Equal(slot, Assert.Single(leader.TakeReady().Chosen).Slot);
    }

    [Fact]
    public void OwnDurableAccept_AndOneFollowerAccept_ChooseTheSlot_InEitherOrder()
    {
        var (c, leader) = SteadyLeader();
        long slot = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 1));
        var ready = leader.TakeReady();
        leader.Persisted(ready.Sequence);
        Assert.Equal(slot, leader.ChosenPrefix); // its own acceptance alone is no quorum of three
        leader.Step(AcceptAndAnswer(c, EarlyAccepts(ready)[0]));
        Assert.Equal(slot + 1, leader.ChosenPrefix);
        Assert.Equal(slot, Assert.Single(leader.TakeReady().Chosen).Slot);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EarlyAccepts_DeclareChosen_OnlySlotsChosenByDurableAcceptances(bool countSelfBeforeDurable)
    {
        var (c, leader) = SteadyLeader(countSelfBeforeDurable ? ProtocolMutation.LeaderCountsSelfBeforeDurable : ProtocolMutation.None);
        long slot = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 1));
        var first = leader.TakeReady();
        leader.Step(AcceptAndAnswer(c, EarlyAccepts(first)[0]));
        leader.Propose(TestCluster.Cmd(1, 2));
        var second = leader.TakeReady(); // the first write still running
        long declared = EarlyAccepts(second).Max(a => a.ChosenBelow);
        // The broken variant declares the slot chosen on one durable acceptance, in a message that may leave now.
        Assert.Equal(countSelfBeforeDurable ? slot + 1 : slot, declared);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LeaderCrashBeforeItsWrite_LosesNothingThatWasReportedChosen(bool countSelfBeforeDurable)
    {
        var (c, leader) = SteadyLeader(countSelfBeforeDurable ? ProtocolMutation.LeaderCountsSelfBeforeDurable : ProtocolMutation.None);
        int l = leader.Id;
        long slot = leader.ChosenPrefix;
        leader.Propose(TestCluster.Cmd(1, 1, "maybe-lost"));
        var first = leader.TakeReady(); // never written: the leader crashes first
        var toA = EarlyAccepts(first)[0];
        int a = toA.To, b = c.Up.Single(id => id != l && id != a);
        leader.Step(AcceptAndAnswer(c, toA)); // only a has the value
        leader.Propose(TestCluster.Cmd(1, 2));
        var second = leader.TakeReady();
        foreach (var accept in EarlyAccepts(second).Where(m => m.To == a)) AcceptAndAnswer(c, accept); // a learns what it declares

        // The broken variant told a that the slot is chosen, on a's acceptance alone; a applied it.
        Assert.Equal(countSelfBeforeDurable, c.Applied[a].Any(e => e.Slot == slot));

        c.Crash(l); // both Readies' writes are lost
        Assert.DoesNotContain(c.DurableState(l).Entries, e => e.Slot == slot);
        c.Restart(l);
        c.Isolate(a);
        for (int round = 0; round < 500 && !c.Up.Any(id => id != a && c[id].IsLeader); round++) c.Run(1);
        var successor = c.Up.Select(id => c[id]).Single(r => r.Id != a && r.IsLeader);
        successor.Propose(TestCluster.Cmd(2, 1));
        c.Run(5);
        c.Heal();
        c.Run(20);

        var atSlot = c.Up.ToDictionary(id => id, id => c.Applied[id].Where(e => e.Slot == slot).Select(e => e.Value.ToString()).SingleOrDefault());
        Assert.All(atSlot.Values, Assert.NotNull);
        if (countSelfBeforeDurable)
            Assert.NotEqual(atSlot[b], atSlot[a]); // the successor never saw the value a applied, and chose another
        else
            Assert.Single(atSlot.Values.Distinct()); // nothing was declared chosen, so the successor was free to choose
    }

    [Fact]
    public void AcceptsAtABallotPromisedInTheSameReady_WaitForTheWrite_AndASingleVoterChoosesOncePersisted()
    {
        // One voter and one learner: the voter elects itself within one step, so the promise of its ballot is in the
        // same Ready as its first Accepts. Were they early, a crash could lose the promise and let it reuse the ballot
        // for other values.
        var voter = new Replica(new ReplicaOptions { ReplicaId = 1 }, PersistentState.Bootstrap(new Configuration([1], [2])), new Random(3));
        for (int i = 0; i < 100 && !voter.IsLeader; i++) voter.Tick();
        Assert.True(voter.IsLeader);
        voter.Propose(TestCluster.Cmd(1, 1));
        var first = voter.TakeReady();
        Assert.Equal(voter.LeaderBallot, first.HardState!.Value.Promised);
        Assert.Contains(first.Messages, m => m is Accept);
        Assert.Equal(0, first.EarlyMessageCount);
        Assert.Empty(first.Chosen); // even alone, it counts itself only once the write is reported
        voter.Persisted(first.Sequence);
        Assert.Single(voter.TakeReady().Chosen, e => e.Value.Commands.Count == 1);

        voter.Propose(TestCluster.Cmd(1, 2)); // the ballot is durably promised now: the Accept to the learner is early
        var second = voter.TakeReady();
        Assert.Equal(1, second.EarlyMessageCount);
        Assert.IsType<Accept>(second.Messages[0]);
    }

    [Fact]
    public void Persisted_OfAReadyNotHandedOut_IsRefused()
    {
        var voter = new Replica(new ReplicaOptions { ReplicaId = 1 }, PersistentState.Bootstrap(new Configuration([1, 2, 3])), new Random(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => voter.Persisted(1));
    }
}
