using System.Diagnostics;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// The MVCC read measures of <see cref="MvccReadBenchmark"/> as a plain loop that also reports CPU time:
/// `--mvcc-reads [--seconds S] [--rounds R]`. On this shared two-core machine wall time per operation moves with
/// everyone else's load (BenchmarkDotNet's error bars were as large as the means), while the process's CPU time
/// per operation moves far less, so the two side by side tell what the code costs from what the machine did.
/// Each round runs point reads, the forward scan and the reverse scan for S seconds each, in turn, so that a
/// burst of load spreads over all three.
/// </summary>
internal static class MvccReadRunner
{
    private const int PointReadsPerCall = 1_000;

    public static void Run(double seconds, int rounds)
    {
        Console.WriteLine($"{MvccReadData.Keys:N0} keys of {MvccReadData.ValueBytes}-byte values, scans in pages of {MvccReadData.PageSize:N0}; " +
                          $"{rounds} rounds of {seconds} s per measure; load average {File.ReadAllText("/proc/loadavg").Trim()} at the start");
        Console.WriteLine();
        Console.WriteLine("| measure | versions per key | wall per op (median) | ops/s (median) | versions/s (median) | wall best | CPU per op (median) | allocated per op |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int versionsPerKey in new[] { 1, 5 })
        {
            using var data = new MvccReadData(versionsPerKey);
            var measures = new (string Name, int OpsPerCall, Func<long> Call)[]
            {
                ("point read", PointReadsPerCall, () => data.PointReads(PointReadsPerCall)),
                ("scan forward", MvccReadData.Keys, () => data.ScanAll(reverse: false)),
                ("scan reverse", MvccReadData.Keys, () => data.ScanAll(reverse: true)),
            };
            var samples = measures.Select(_ => new List<Sample>()).ToArray();
            // Warm-up: the JIT's tiers settle before anything counts.
            foreach (var measure in measures) Measure(measure.Call, measure.OpsPerCall, Math.Min(seconds, 1));
            for (int round = 0; round < rounds; round++)
                for (int m = 0; m < measures.Length; m++)
                    samples[m].Add(Measure(measures[m].Call, measures[m].OpsPerCall, seconds));
            for (int m = 0; m < measures.Length; m++)
            {
                var wall = samples[m].Select(s => s.WallNs).Order().ToArray();
                var cpu = samples[m].Select(s => s.CpuNs).Order().ToArray();
                double wallMedian = wall[wall.Length / 2];
                bool scan = measures[m].OpsPerCall == MvccReadData.Keys;
                string versions = scan ? $"{1e9 / wallMedian * versionsPerKey / 1e6:F2} M" : "—";
                Console.WriteLine($"| {measures[m].Name} | {versionsPerKey} | {wallMedian:F0} ns | {1e9 / wallMedian:N0} | {versions} | {wall[0]:F0} ns | " +
                                  $"{cpu[cpu.Length / 2]:F0} ns | {samples[m].Select(s => s.AllocatedBytes).Order().ElementAt(rounds / 2):F0} B |");
            }
        }
    }

    private readonly record struct Sample(double WallNs, double CpuNs, double AllocatedBytes);

    private static Sample Measure(Func<long> call, int opsPerCall, double seconds)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuStart = process.TotalProcessorTime;
        long allocatedStart = GC.GetAllocatedBytesForCurrentThread();
        long ops = 0;
        var wall = Stopwatch.StartNew();
        do
        {
            call();
            ops += opsPerCall;
        }
        while (wall.Elapsed.TotalSeconds < seconds);
        wall.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedStart;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuStart;
        return new Sample(wall.Elapsed.TotalNanoseconds / ops, cpu.TotalNanoseconds / ops, (double)allocated / ops);
    }
}
