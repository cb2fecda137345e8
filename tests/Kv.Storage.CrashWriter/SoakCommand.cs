using System.Diagnostics;
using Kv.Storage.Tests.Crash;

namespace Kv.Storage.CrashWriter;

/// <summary>
/// <c>soak [--rounds N] [--seed S] [--writers N]</c>: runs crash rounds against this program as the child — start
/// a writer (modes and writer counts rotate), kill it with SIGKILL at a seeded random moment, reopen the database
/// and verify it — and prints one line per round and a final <c>SOAK …</c> summary. Exit code 1 if any round
/// failed; a failed round's database is kept and its path printed.
/// </summary>
internal static class SoakCommand
{
    public static async Task<int> RunAsync(int rounds, int seed, int? writersOverride)
    {
        var command = ChildCommand.Self(typeof(SoakCommand).Assembly.Location);
        var random = new Random(seed);
        long acked = 0, verified = 0, found = 0;
        int failedRounds = 0;
        var started = Stopwatch.StartNew();
        for (int round = 0; round < rounds; round++)
        {
            var (mode, writers) = CrashPlan.ModeFor(round);
            writers = writersOverride ?? writers;
            var (killDelayMs, killFromStart) = CrashPlan.KillFor(round, random);
            using var directory = new ScratchDirectory("soak");
            var result = await CrashRound.RunAsync(command, directory.Path, mode, writers, killDelayMs, killFromStart).ConfigureAwait(false);
            var verification = CrashVerifier.Verify(directory.Path, result.AckedIds, writers);
            acked += result.AckedIds.Count;
            verified += verification.AckedVerified;
            found += verification.BatchesFound;
            bool failed = verification.Failures.Count > 0;
            Console.WriteLine($"round={round} mode={mode} writers={writers} killed_after_ms={result.KilledAfterMs} "
                + $"acked={result.AckedIds.Count} found={verification.BatchesFound} failures={verification.Failures.Count}");
            if (failed)
            {
                failedRounds++;
                directory.Keep = true;
                Console.WriteLine($"  FAILED (seed {seed}, round {round}); database kept at {directory.Path}");
                foreach (string failure in verification.Failures.Take(20)) Console.WriteLine($"  {failure}");
                if (result.Stderr.Length > 0) Console.WriteLine($"  child stderr: {result.Stderr}");
            }
        }
        Console.WriteLine($"SOAK rounds={rounds} failed_rounds={failedRounds} acked={acked} acked_verified={verified} "
            + $"batches_found={found} seed={seed} elapsed_s={started.Elapsed.TotalSeconds:F1}");
        return failedRounds == 0 ? 0 : 1;
    }
}
