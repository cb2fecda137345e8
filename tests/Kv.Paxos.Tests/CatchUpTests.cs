using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>PAXOS.md §7: lagging replicas get chosen values, or a snapshot once the log is compacted.</summary>
public class CatchUpTests
{
    [Fact]
    public void LaggingReplica_GetsTheChosenValuesItMissed()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        int lagger = c.Up.First(id => id != leader.Id);
        c.Isolate(lagger);
        for (int i = 1; i <= 40; i++) { leader.Propose(TestCluster.Cmd(1, i)); if (i % 5 == 0) c.Run(1); }
        c.Run(5);
        Assert.Empty(c.Commands(lagger));
        c.Heal();
        c.Run(20);
        Assert.Equal(c.Commands(leader.Id).Select(x => x.Sequence), c.Commands(lagger).Select(x => x.Sequence));
        Assert.Contains(c.Readies[leader.Id].SelectMany(r => r.Messages), m => m is ChosenValues && m.To == lagger);
    }

    [Fact]
    public void NonLeader_AnswersADuplicatedCatchUpAck_Once()
    {
        // Each duplicated ack used to start one more send-ack loop with the asker, and the loops multiplied into a
        // storm (simulator seed 17 under the lease-attack profile).
        var c = new TestCluster(3, id => new ReplicaOptions { ReplicaId = id, CatchUpSlotsPerMessageMax = 2, BatchCommandsMax = 1 });
        var leader = c.ElectLeader();
        for (int i = 1; i <= 10; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Run(5);
        var server = c.Replicas.Values.First(r => !r.IsLeader);
        int asker = c.Up.First(id => id != leader.Id && id != server.Id);
        c.Network.Clear();
        server.Step(new CatchUpRequest(asker, server.Id, server.Promised, 0));
        Assert.Single(server.TakeReady().Messages.OfType<ChosenValues>());
        var ack = new CatchUpAck(asker, server.Id, server.Promised, 2);
        server.Step(ack);
        Assert.Equal(2, Assert.Single(server.TakeReady().Messages.OfType<ChosenValues>()).Slots[0].Slot);
        server.Step(ack); // the duplicate: no progress since the last ack, so no second loop
        Assert.Empty(server.TakeReady().Messages.OfType<ChosenValues>());
        server.Step(ack with { ChosenPrefix = 4 });
        Assert.Equal(4, Assert.Single(server.TakeReady().Messages.OfType<ChosenValues>()).Slots[0].Slot);
    }

    [Fact]
    public void ReplicaBehindTheCompactedLog_InstallsASnapshot_AndThenFollows()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        int lagger = c.Up.First(id => id != leader.Id);
        c.Crash(lagger);
        for (int i = 1; i <= 30; i++) { leader.Propose(TestCluster.Cmd(1, i)); c.Run(1); }
        c.Run(3);
        var snapshotData = new byte[] { 1, 2, 3 };
        foreach (int id in c.Up) c[id].Compact(c[id].AppliedUpTo, snapshotData);
        c.PumpAll();
        long compactedTo = leader.SnapshotIndex;
        Assert.True(compactedTo > 10);
        Assert.Equal(0, c.DurableState(leader.Id).Entries.Count(e => e.Slot < compactedTo));
        c.Restart(lagger);
        c.Run(20);
        var installed = c.Readies[lagger].Select(r => r.SnapshotToApply).OfType<Snapshot>().Single();
        Assert.Equal(compactedTo, installed.Index);
        Assert.Equal(snapshotData, installed.Data.ToArray());
        leader.Propose(TestCluster.Cmd(1, 31));
        c.Run(5);
        Assert.Equal(31, c.Commands(lagger).Single().Sequence);
        Assert.Equal(leader.ChosenPrefix, c[lagger].ChosenPrefix);
    }

    [Fact]
    public void Compact_BeyondWhatIsApplied_IsRefused()
    {
        var c = new TestCluster(1);
        var leader = c.ElectLeader();
        Assert.Throws<ArgumentOutOfRangeException>(() => leader.Compact(leader.AppliedUpTo + 1, default));
    }

    [Fact]
    public void RestartedReplica_ReappliesFromItsSnapshot_AndRelearnsTheRest()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        for (int i = 1; i <= 10; i++) leader.Propose(TestCluster.Cmd(1, i));
        c.Run(5);
        int f = c.Up.First(id => id != leader.Id);
        c.Crash(f);
        c.Restart(f);
        c.Run(5);
        // The state machine is volatile here: after the restart it is rebuilt from the snapshot (empty) plus the log.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), c.Commands(f).Select(x => x.Sequence));
    }
}
