using System.Collections.Concurrent;
using Kv.Simulation.Sim;
using Xunit.Abstractions;

namespace Kv.Simulation.Tests;

/// <summary>
/// The simulator over many seeds with faults, and the proof that its checkers catch planted bugs.
/// A failing seed's message names the seed and the command that replays it with a trace.
/// </summary>
public class SimulationTests(ITestOutputHelper output)
{
    /// <summary>How many seeds `dotnet test` runs; the soak command runs any number.</summary>
    private const int SeedCount = 2_000;

    [Fact]
    public void Seeds_WithFaults_AllPassEveryChecker()
    {
        var failures = new ConcurrentBag<SimulationResult>();
        var totals = new FaultCounts();
        Parallel.For(1, SeedCount + 1, seed =>
        {
            var result = SeedRunner.Run(seed);
            lock (totals) totals.Add(result.Faults);
            if (!result.Passed) failures.Add(result);
        });
        output.WriteLine($"{SeedCount} seeds: {totals}");
        // The run must actually exercise the faults it claims to, or passing proves little.
        Assert.True(totals.MessagesLost > 0 && totals.MessagesDuplicated > 0 && totals.Partitions > 0 && totals.Crashes > 0);
        Assert.True(totals.MembershipChanges > 0 && totals.SnapshotsInstalled > 0 && totals.LeaderChanges > SeedCount);
        Assert.True(totals.Operations > SeedCount * 50L);
        Assert.True(totals.Quiesced > 0 && totals.WokenByLiveness > 0, "no group quiesced, or none was woken by node liveness");
        Assert.True(totals.EarlyMessages > SeedCount, "leaders sent (almost) no Accept before their own write was durable");
        Assert.True(failures.IsEmpty, Describe(failures));
    }

    /// <summary>Seeds that once found a bug, kept so that it stays fixed.</summary>
    [Theory]
    // A leader elected with promises from an old configuration's quorum served a read before re-preparing in
    // the newer configurations, missing slots a newer quorum had chosen (stale read).
    [InlineData(1_223_734, false)]
    [InlineData(1_223_734, true)]
    // Duplicated catch-up acknowledgements each started another send-ack loop with a slow learner, so the loops
    // multiplied into a message storm that never ended (now reported as STORM rather than hanging the soak).
    [InlineData(517_555, false)]
    [InlineData(517_555, true)]
    public void RegressionSeed_Passes(long seed, bool leaderAcceptsBeforeDurable)
    {
        // Found before leaders sent Accepts early; kept both ways.
        var result = SeedRunner.Run(seed, adjust: p => p with { LeaderAcceptsBeforeDurable = leaderAcceptsBeforeDurable });
        Assert.True(result.Passed, Describe([result]));
    }

    [Fact]
    public void SameSeed_ReplaysTheSameRun()
    {
        for (long seed = 1; seed <= 3; seed++)
        {
            var a = SeedRunner.Run(seed, trace: true);
            var b = SeedRunner.Run(seed, trace: true);
            Assert.False(string.IsNullOrEmpty(a.Trace));
            Assert.Equal(a.Trace, b.Trace);
            Assert.Equal(a.EndUs, b.EndUs);
        }
    }

    [Theory]
    [InlineData("propose-own-value", "AGREEMENT|PREFIX")]
    [InlineData("ack-before-durable", "AGREEMENT|PREFIX")]
    [InlineData("lease-without-drift", "LINEARIZABILITY")]
    [InlineData("quiesce-keeps-lease", "LINEARIZABILITY")]
    // A follower applies a value the leader declared chosen on its own undurable acceptance; the leader's crash loses
    // that acceptance and a successor chooses another value at the slot.
    [InlineData("leader-counts-self-before-durable", "AGREEMENT|PREFIX|slot \\d+: applied")]
    // The Ready's split between synced and unsynced hard state must keep promises synced.
    [InlineData("promise-without-sync", "AGREEMENT|PREFIX")]
    public void PlantedBug_IsCaughtByTheCheckers(string mutation, string expectedKinds)
    {
        var found = FirstViolation(mutation, maxSeeds: 3_000);
        Assert.True(found is not null, $"no seed in 1..3000 exposed '{mutation}': the checkers are blind to it");
        output.WriteLine($"{mutation}: seed {found!.Seed}: {found.Violations[0][..Math.Min(300, found.Violations[0].Length)]}");
        Assert.Matches($"^({expectedKinds})", found.Violations[0]);
    }

    [Fact]
    public void QuiesceAttackProfile_WithTheLeaseDroppedOnQuiescence_FindsNothing()
    {
        // The profile that exposes a lease kept through quiescence, run against the correct protocol.
        Assert.Null(FirstViolation("quiesce-attack", maxSeeds: 600));
    }

    [Fact]
    public void EarlyAcceptAttackProfile_WithTheLeaderCountingItselfOnceDurable_FindsNothing()
    {
        // The profile that exposes a leader counting its own undurable acceptance, run against the real rule.
        Assert.Null(FirstViolation("early-accept-attack", maxSeeds: 600));
    }

    [Fact]
    public void LeaseAttackProfile_WithTheDriftBound_FindsNothing()
    {
        // The same hostile profile that exposes the lease bug, run against the correct lease.
        Assert.Null(FirstViolation("lease-attack", maxSeeds: 600));
    }

    private static SimulationResult? FirstViolation(string mutation, int maxSeeds)
    {
        var adjust = Mutations.Apply(mutation);
        SimulationResult? first = null;
        Parallel.For(1, maxSeeds + 1, (seed, state) =>
        {
            var result = SeedRunner.Run(seed, adjust: adjust);
            if (result.Passed) return;
            lock (adjust!)
            {
                if (first is null || result.Seed < first.Seed) first = result;
            }
            state.Break();
        });
        return first;
    }

    /// <summary>The failing seeds, how to replay them, and the end of the first one's trace.</summary>
    private static string Describe(IEnumerable<SimulationResult> failures)
    {
        var sorted = failures.OrderBy(f => f.Seed).ToList();
        if (sorted.Count == 0) return "";
        var lines = sorted.Take(5).Select(f =>
            $"seed {f.Seed}: {string.Join(" | ", f.Violations)}\n  replay: {SeedRunner.ReplayCommand(f.Seed)}").ToList();
        var trace = SeedRunner.Run(sorted[0].Seed, trace: true).Trace ?? "";
        var tail = trace.Split('\n').TakeLast(60);
        return string.Join("\n", lines) + $"\n--- last trace lines of seed {sorted[0].Seed} ---\n" + string.Join("\n", tail);
    }
}
