using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>PAXOS.md §5: lease reads, read-index reads, and why the lease must be shortened by the drift bound.</summary>
public class LeaseTests
{
    [Fact]
    public void LeaseLength_IsTheElectionTimeoutShortenedByTheDriftBound()
    {
        var o = new ReplicaOptions { ReplicaId = 1, ElectionTimeoutTicks = 20, ClockDriftBound = 0.1, LeaseMarginTicks = 1 };
        Assert.Equal((long)Math.Floor(20 * 0.9 / 1.1) - 1, o.LeaseTicks);
        Assert.Equal(20, (o with { Mutation = ProtocolMutation.LeaseWithoutDriftBound }).LeaseTicks);
    }

    [Fact]
    public void LeaseRead_IsServedWithoutAQuorumRound()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        leader.Propose(TestCluster.Cmd(1, 1));
        c.Run(3);
        Assert.True(leader.HoldsLease);
        long delivered = c.Delivered;
        Assert.Equal(RequestStatus.Accepted, leader.RequestRead(42));
        c.Pump(leader.Id);
        Assert.Contains(c.ReadsReady[leader.Id], r => r.ReadId == 42 && r.Index == leader.ChosenPrefix);
        Assert.Equal(delivered, c.Delivered);
    }

    [Fact]
    public void ReadIndex_WithoutALease_WaitsForAQuorumToConfirmLeadership()
    {
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, LeaseReadsEnabled = false });
        var leader = c.ElectLeader();
        c.Run(3);
        foreach (int id in c.Up.Where(id => id != leader.Id)) c.Isolate(id);
        leader.RequestRead(7);
        c.Deliver();
        Assert.Empty(c.ReadsReady[leader.Id]); // no quorum: the read must not be served
        c.Heal();
        c.Run(3);
        Assert.Contains(c.ReadsReady[leader.Id], r => r.ReadId == 7);
    }

    [Fact]
    public void FollowerRead_IsRefused()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        Assert.Equal(RequestStatus.NotLeader, c.Replicas.Values.First(r => r != leader).RequestRead(1));
    }

    /// <summary>
    /// The deposed-leader scenario: the leader's clock runs slow and the others' fast, all within the drift
    /// bound. The leader is cut off; the others elect a new leader and write. With the drift bound the old
    /// leader's lease has ended by then, so its read cannot be served; without it, it serves a stale value.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeposedLeader_ServesAStaleRead_OnlyWhenTheLeaseIgnoresDrift(bool mutated)
    {
        const double drift = 0.5;
        var c = new TestCluster(3, id => new ReplicaOptions
        {
            ReplicaId = id,
            ElectionTimeoutTicks = 10,
            ClockDriftBound = drift,
            Mutation = mutated ? ProtocolMutation.LeaseWithoutDriftBound : ProtocolMutation.None,
        });
        var old = c.ElectLeader();
        old.Propose(TestCluster.Cmd(1, 1, "v1"));
        c.Run(3);
        var rates = c.Up.ToDictionary(id => id, id => id == old.Id ? 1 - drift : 1 + drift);
        var clocks = c.Up.ToDictionary(id => id, _ => 0.0);
        c.Isolate(old.Id);
        Replica? successor = null;
        bool written = false;
        bool staleRead = false;
        // Advance real time in steps of 1/6 tick; every replica ticks at its own rate.
        for (int step = 0; step < 6 * 200 && !staleRead; step++)
        {
            foreach (int id in c.Up)
            {
                clocks[id] += rates[id] / 6;
                while (clocks[id] >= 1) { clocks[id] -= 1; c.Tick(id); }
            }
            c.Deliver();
            successor ??= c.Replicas.Values.FirstOrDefault(r => r.IsLeader && r != old);
            if (successor is not null && !written)
            {
                successor.Propose(TestCluster.Cmd(2, 1, "v2"));
                c.Deliver();
                written = c.Commands(successor.Id).Any(x => x.ClientId == 2);
                continue;
            }
            if (written && old.IsLeader && old.RequestRead(step) == RequestStatus.Accepted)
            {
                c.Pump(old.Id);
                staleRead = c.ReadsReady[old.Id].Count > 0; // the old leader has not applied v2: any read it serves is stale
            }
            if (written && !old.IsLeader) break;
        }
        Assert.True(written, "the majority side should elect a leader and write");
        Assert.Equal(mutated, staleRead);
    }
}
