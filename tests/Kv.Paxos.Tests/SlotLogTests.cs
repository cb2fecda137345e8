using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>The in-memory log's size accounting, which the host's byte-based compaction relies on.</summary>
public sealed class SlotLogTests
{
    private static LogEntry Entry(long slot, params int[] payloadBytes) => new(
        slot, new Ballot(1, 1),
        SlotValue.OfCommands(payloadBytes.Select((n, i) => new Command(1, slot * 100 + i, new byte[n])).ToArray()),
        Chosen: false);

    [Fact]
    public void Bytes_FollowPutsReplacementsAndTruncation()
    {
        var log = new SlotLog(firstSlot: 1);
        var a = Entry(1, 100, 200);
        var b = Entry(2, 1_000);
        log.Put(a);
        log.Put(b);
        Assert.Equal(a.Value.SizeBytes + b.Value.SizeBytes, log.Bytes);

        // The same slot again (an accept at a higher ballot, or the chosen mark) replaces, never adds.
        var b2 = Entry(2, 10);
        log.Put(b2 with { Chosen = true });
        Assert.Equal(a.Value.SizeBytes + b2.Value.SizeBytes, log.Bytes);

        log.Put(Entry(5, 50));
        log.TruncateBelow(3);
        Assert.Equal(Entry(5, 50).Value.SizeBytes, log.Bytes);
        log.TruncateBelow(100); // sparse: the other removal path
        Assert.Equal(0, log.Bytes);
        Assert.Equal(0, log.Count);
    }

    [Fact]
    public void ReplicaLogBytes_GrowWithProposals_AndDropWhenCompacted()
    {
        var c = new TestCluster(3);
        var leader = c.ElectLeader();
        long before = leader.LogBytes;
        for (int i = 1; i <= 20; i++) leader.Propose(TestCluster.Cmd(1, i, new string('v', 500)));
        c.Run(5);
        Assert.True(leader.LogBytes - before >= 20 * 500, $"20 commands of 500 bytes, log bytes grew by {leader.LogBytes - before}");
        leader.Compact(leader.AppliedUpTo, new byte[] { 1 });
        Assert.True(leader.LogBytes < 500, $"after compaction the log holds {leader.LogBytes} bytes");
    }
}
