using System.Diagnostics;
using Kv.Simulation.Sim;

namespace Kv.Simulation;

/// <summary>
/// The soak command: <c>dotnet run -c Release --project tests/Kv.Simulation -- --seeds N [--start S] [--trace]
/// [--mutation NAME] [--early-accepts on|off]</c> (the last overrides each seed's draw of
/// <see cref="SimulationProfile.LeaderAcceptsBeforeDurable"/>).
/// Runs seeds S..S+N-1 on every core, shows progress and fault counts on stderr, prints each failing seed with its
/// violations and replay command, and ends with exactly one line on stdout:
/// <c>seeds=N violations=V seeds_per_s=R</c>. Exits 1 on any violation.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        long seeds = 1000, start = 1;
        bool trace = false;
        string mutation = "none";
        bool? earlyAccepts = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seeds" when i + 1 < args.Length && long.TryParse(args[i + 1], out seeds) && seeds > 0: i++; break;
                case "--start" when i + 1 < args.Length && long.TryParse(args[i + 1], out start): i++; break;
                case "--trace": trace = true; break;
                case "--early-accepts" when i + 1 < args.Length && args[i + 1] is "on" or "off": earlyAccepts = args[++i] == "on"; break;
                case "--mutation" when i + 1 < args.Length && Mutations.Names.Contains(args[i + 1]): mutation = args[++i]; break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/Kv.Simulation -- --seeds N [--start S] [--trace] [--mutation NAME] [--early-accepts on|off]");
                    Console.Error.WriteLine($"mutations (planted bugs the checkers must catch): {string.Join(", ", Mutations.Names)}");
                    return 2;
            }
        }
        var adjust = Adjust(mutation, earlyAccepts);
        var clock = Stopwatch.StartNew();
        var totals = new FaultCounts();
        long done = 0, violations = 0;
        var gate = new object();
        long lastReport = 0;
        Parallel.For(start, start + seeds, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, seed =>
        {
            var result = SeedRunner.Run(seed, trace, adjust);
            lock (gate)
            {
                done++;
                totals.Add(result.Faults);
                if (!result.Passed)
                {
                    violations++;
                    Console.Error.WriteLine($"\nseed {seed} FAILED:");
                    foreach (var v in result.Violations) Console.Error.WriteLine($"  {v}");
                    Console.Error.WriteLine($"  replay: {SeedRunner.ReplayCommand(seed)}");
                    if (!trace) Console.Error.WriteLine($"  trace:  {SaveTrace(seed, mutation, adjust)}");
                }
                if (trace && result.Trace is not null) Console.Error.Write(result.Trace);
                long nowMs = clock.ElapsedMilliseconds;
                if (nowMs - lastReport >= 2000 || done == seeds)
                {
                    lastReport = nowMs;
                    Console.Error.WriteLine($"[{done}/{seeds}] {done * 1000.0 / Math.Max(1, nowMs):F1} seeds/s violations={violations} | {totals}");
                }
            }
        });
        Console.Error.Flush();
        double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        Console.Out.WriteLine($"seeds={done} violations={violations} seeds_per_s={rate:F1}");
        return violations == 0 ? 0 : 1;
    }

    /// <summary>Replays a failing seed with tracing on and keeps the trace in a file; returns its path.</summary>
    /// <summary>The mutation's profile change, then the override of early Accepts, if any.</summary>
    private static Func<SimulationProfile, SimulationProfile>? Adjust(string mutation, bool? earlyAccepts)
    {
        var m = Mutations.Apply(mutation);
        if (earlyAccepts is not { } on) return m;
        return p => (m is null ? p : m(p)) with { LeaderAcceptsBeforeDurable = on };
    }

    private static string SaveTrace(long seed, string mutation, Func<SimulationProfile, SimulationProfile>? adjust)
    {
        var replay = SeedRunner.Run(seed, trace: true, adjust);
        Directory.CreateDirectory("sim-failures");
        string path = Path.GetFullPath(Path.Combine("sim-failures", $"seed-{seed}{(mutation == "none" ? "" : "-" + mutation)}.trace"));
        File.WriteAllText(path, string.Join("\n", replay.Violations) + "\n" + replay.Trace);
        return path;
    }
}
