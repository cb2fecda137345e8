using Kv.Simulation.Checking;
using Kv.Simulation.Sim;
using Xunit.Abstractions;

namespace Kv.Simulation.Tests;

/// <summary>
/// The write path's length in simulated time (deterministic: fixed fsync and network delays, no faults). With early
/// Accepts the leader's fsync runs in parallel with the follower's round trip instead of before it (PAXOS.md §10),
/// and the chosen prefix is written without a sync (§11): one fsync on the critical path.
/// </summary>
public class WritePathTests(ITestOutputHelper output)
{
    private const long FsyncUs = 1_000, DelayUs = 100;

    private static SimulationProfile Quiet(SimulationProfile p, bool early) => p with
    {
        LeaderAcceptsBeforeDurable = early,
        Replicas = 3,
        LossRate = 0,
        DuplicateRate = 0,
        DelaySpikeRate = 0,
        PartitionEveryUs = 0,
        CrashEveryUs = 0,
        MembershipChanges = false,
        FsyncMinUs = FsyncUs,
        FsyncMaxUs = FsyncUs,
        DelayMinUs = DelayUs,
        DelayMaxUs = DelayUs,
        Clients = 1,
        WriteRate = 1,
        ClientRandomTargetRate = 0,
        ClientThinkMaxUs = 1,
        QuiesceAfterTicks = 0,
        // Rare heartbeats: a follower then learns the chosen prefix from the next Accept, in the same write. (The
        // simulated disk has no group commit, so a heartbeat's write of it would delay the next accept's write.)
        ElectionTimeoutTicks = 100,
        HeartbeatIntervalTicks = 40,
    };

    private static double MedianWriteUs(bool early)
    {
        var latencies = new List<long>();
        for (long seed = 1; seed <= 5; seed++)
        {
            var result = SeedRunner.Run(seed, adjust: p => Quiet(p, early));
            Assert.True(result.Passed, string.Join("\n", result.Violations));
            latencies.AddRange(result.History!.Where(o => o.Kind == KvOperationKind.Write && o.ResponseTime is not null && o.ClientId != 999)
                .Select(o => o.ResponseTime!.Value - o.InvokeTime));
        }
        Assert.True(latencies.Count > 500, $"only {latencies.Count} writes completed");
        latencies.Sort();
        return latencies[latencies.Count / 2];
    }

    [Fact]
    public void EarlyAccepts_TakeTheLeadersFsyncOffTheCriticalPath()
    {
        double off = MedianWriteUs(early: false), on = MedianWriteUs(early: true);
        output.WriteLine($"median put, fsync {FsyncUs} µs, one-way delay {DelayUs} µs: off {off} µs, on {on} µs");
        // Off: client→leader, leader fsync, Accept, follower fsync, Accepted, reply. The chosen prefix that follows is
        // written without a sync (PAXOS.md §11), so no third fsync.
        Assert.Equal(2 * FsyncUs + 4 * DelayUs, off);
        // On: the leader's fsync overlaps the follower's round trip (which is longer, by its two delays): one fsync.
        Assert.Equal(FsyncUs + 4 * DelayUs, on);
    }
}
