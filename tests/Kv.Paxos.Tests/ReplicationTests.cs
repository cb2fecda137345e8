using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

public class ReplicationTests
{
    [Fact]
    public void Proposals_AreChosenAndAppliedOnEveryReplica_InOrder_ExactlyOnce()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        for (int i = 1; i <= 50; i++)
        {
            Assert.Equal(RequestStatus.Accepted, leader.Propose(TestCluster.Cmd(1, i)));
            if (i % 7 == 0) c.Run(1);
        }
        c.Run(10);
        foreach (int id in c.Up)
        {
            Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), c.Commands(id).Select(x => x.Sequence));
            var slots = c.Applied[id].Select(e => e.Slot).ToList();
            Assert.Equal(slots.Distinct().Count(), slots.Count);
            Assert.Equal(Enumerable.Range(0, slots.Count).Select(i => (long)i), slots);
        }
    }

    [Fact]
    public void Proposal_AtAFollower_IsRefusedWithAHint()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        var follower = c.Replicas.Values.First(r => !r.IsLeader);
        Assert.Equal(RequestStatus.NotLeader, follower.Propose(TestCluster.Cmd(1, 1)));
        Assert.Equal(leader.Id, follower.LeaderHint);
    }

    [Fact]
    public void Batching_ManyProposalsBeforeAReady_ShareOneSlot()
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, BatchCommandsMax = 100 });
        var leader = c.ElectLeader();
        c.Run(3);
        long before = leader.ChosenPrefix;
        for (int i = 1; i <= 250; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Deliver();
        var slots = c.Applied[leader.Id].Where(e => e.Slot >= before && e.Value.Kind == SlotValueKind.Commands).ToList();
        Assert.Equal([100, 100, 50], slots.Select(e => e.Value.Commands.Count));
        // The three slots travelled to each follower in one Accept message.
        var accepts = c.Readies[leader.Id].SelectMany(r => r.Messages).OfType<Accept>().Where(a => a.Slots.Any(s => s.Slot >= before)).ToList();
        Assert.Equal(2, accepts.Count);
        Assert.All(accepts, a => Assert.Equal(3, a.Slots.Count));
    }

    [Fact]
    public void Pipelining_LeaderKeepsAtMostAlphaSlotsInFlightBeyondTheChosenPrefix()
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, InflightSlotsMax = 4, BatchCommandsMax = 1 });
        var leader = c.ElectLeader();
        c.Run(3);
        long chosen = leader.ChosenPrefix;
        foreach (int id in c.Up.Where(id => id != leader.Id)) c.Isolate(id);
        for (int i = 1; i <= 20; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Deliver();
        long maxProposed = c.Readies[leader.Id].SelectMany(r => r.Entries).Max(e => e.Slot);
        Assert.Equal(chosen + 3, maxProposed);
        c.Heal();
        c.Run(10);
        Assert.Equal(20, c.Commands(leader.Id).Count);
    }

    [Fact]
    public void Retransmission_LostAcceptsAreSentAgain()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        c.Run(3);
        leader.Propose(TestCluster.Cmd(1, 1));
        c.PumpAll();
        c.Network.Clear(); // every Accept is lost
        c.Run(10);
        Assert.All(c.Up, id => Assert.Single(c.Commands(id)));
    }

    [Fact]
    public void DuplicateProposal_IsChosenTwiceButAppliedOnceByASessionTable()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        var cmd = TestCluster.Cmd(9, 1, "put");
        leader.Propose(cmd);
        c.Run(2);
        leader.Propose(cmd); // the client retried after a lost reply
        c.Run(5);
        var chosen = c.Commands(leader.Id);
        Assert.Equal(2, chosen.Count);
        var sessions = new SessionTable();
        int applied = 0;
        foreach (var x in chosen)
            if (sessions.ShouldApply(x, out _)) { applied++; sessions.Record(x, []); }
        Assert.Equal(1, applied);
    }

    [Fact]
    public void GroupOfOne_ChoosesAndAppliesItsOwnProposals()
    {
        var c = new TestCluster(1);
        var leader = c.ElectLeader();
        for (int i = 1; i <= 5; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Pump(leader.Id);
        Assert.Equal(5, c.Commands(leader.Id).Count);
        // Applied only from the Ready after the one that writes them: the lone voter counts its own acceptance once
        // the host reports that write durable (PAXOS.md §10).
        var readies = c.Readies[leader.Id];
        int written = readies.FindIndex(r => r.Entries.Any(e => e.Value.Commands.Count > 0));
        int applied = readies.FindIndex(r => r.Chosen.Any(e => e.Value.Commands.Count > 0));
        Assert.True(written >= 0 && applied == written + 1, $"written in Ready {written}, applied in {applied}");
        leader.RequestRead(1);
        c.Pump(leader.Id);
        Assert.Contains(c.ReadsReady[leader.Id], r => r.ReadId == 1);
    }

    [Fact]
    public void AcceptMessages_AreCutByValueBytes_SoATransportLimitCanCarryThem()
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, BatchCommandsMax = 1, MessageValueBytesMax = 3_000 });
        var leader = c.ElectLeader();
        c.Run(3);
        long before = leader.ChosenPrefix;
        for (int i = 1; i <= 6; i++) leader.Propose(TestCluster.Cmd(1, i, new string('x', 1_000)));
        c.Deliver();
        var accepts = c.Readies[leader.Id].SelectMany(r => r.Messages).OfType<Accept>().Where(a => a.Slots.Any(s => s.Slot >= before)).ToList();
        Assert.All(accepts, a => Assert.True(a.Slots.Count == 1 || a.Slots.Sum(s => s.Value.SizeBytes) <= 3_000));
        Assert.True(accepts.Count >= 6); // 6 slots of ~1 KB, at most 2 per message, to each of 2 followers
        c.Run(3); // followers learn the last slots from the next heartbeat
        Assert.All(c.Up, id => Assert.Equal(6, c.Commands(id).Count));
    }
}
