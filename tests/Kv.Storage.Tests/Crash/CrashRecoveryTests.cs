using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Kv.Storage.Tests.Crash;

/// <summary>
/// Kill -9 a real writer process at seeded random moments and check that every batch it acknowledged as
/// durable survived, whole and byte-exact, with the Paxos state of its groups loadable (docs/storage-paxos.md).
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Rounds = 24;
    private const int DefaultSeed = 20261126;

    [Fact]
    public async Task WriterKilledAtRandomMoments_EveryAcknowledgedBatchSurvivesIntact()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("KV_CRASH_SEED"), CultureInfo.InvariantCulture, out int s) ? s : DefaultSeed;
        var command = ChildCommand.ForDll(CrashWriterLocator.Find());
        var random = new Random(seed);
        long acked = 0, verified = 0, found = 0;
        var started = Stopwatch.StartNew();

        for (int round = 0; round < Rounds; round++)
        {
            var (mode, writers) = CrashPlan.ModeFor(round);
            var (killDelayMs, killFromStart) = CrashPlan.KillFor(round, random);
            using var directory = new ScratchDirectory("crash");
            var result = await CrashRound.RunAsync(command, directory.Path, mode, writers, killDelayMs, killFromStart);
            var verification = CrashVerifier.Verify(directory.Path, result.AckedIds, writers);
            output.WriteLine($"round {round}: {mode} x{writers}, killed after {result.KilledAfterMs} ms, "
                + $"{result.AckedIds.Count} acked, {verification.BatchesFound} batches found");
            if (verification.Failures.Count > 0)
            {
                directory.Keep = true;
                Assert.Fail($"seed {seed} (KV_CRASH_SEED), round {round}: database kept at {directory.Path}\n"
                    + string.Join("\n", verification.Failures.Take(20)) + $"\nchild stderr: {result.Stderr}");
            }
            Assert.Equal(result.AckedIds.Count, verification.AckedVerified);
            acked += result.AckedIds.Count;
            verified += verification.AckedVerified;
            found += verification.BatchesFound;
        }

        output.WriteLine($"{Rounds} rounds, {acked} acknowledged batches verified ({verified}), {found} batches found, "
            + $"seed {seed}, {started.Elapsed.TotalSeconds:F1} s");
        Assert.True(acked > 0, "the writer acknowledged nothing in any round");
    }
}
