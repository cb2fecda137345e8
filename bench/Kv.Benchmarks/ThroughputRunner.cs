using System.Diagnostics;

namespace Kv.Benchmarks;

/// <summary>A plain measurement loop over <see cref="PaxosGroupHarness"/>, as a sanity check of the BenchmarkDotNet figures.</summary>
public static class ThroughputRunner
{
    /// <summary>Runs each batching variant for about <paramref name="seconds"/> (after a short warm-up) and prints the rates.</summary>
    /// <param name="seconds">Measured time per variant.</param>
    /// <param name="only">Runs only this BatchCommandsMax (for profiling one variant); null runs 1, 64 and 1024.</param>
    public static void Run(double seconds, int? only = null)
    {
        Console.WriteLine($"PaxosGroup throughput: 3 replicas, in-memory transport, {PaxosGroupBenchmark.Commands} commands per round, applied on all 3");
        Console.WriteLine($"{"BatchCommandsMax",16} {"commands/s",14} {"ns/command",11} {"B alloc/command",16} {"msgs/command",13} {"gen0/1/2 GCs",14} {"GC pause %",11} {"heap MB after",14}");
        foreach (int batch in only is { } b ? [b] : new[] { 1, 64, 1024 })
            Measure(batch, seconds);
    }

    private static void Measure(int batchCommandsMax, double seconds)
    {
        var group = PaxosGroupBenchmark.CreateGroup(batchCommandsMax);
        group.Elect();
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < Math.Min(1, seconds / 5)) group.CommitBatch(PaxosGroupBenchmark.Commands);

        long commands0 = group.Proposed;
        long messages0 = group.MessagesDelivered;
        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        var pause0 = GC.GetTotalPauseDuration();
        long bytes0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) group.CommitBatch(PaxosGroupBenchmark.Commands);
        sw.Stop();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytes0;
        long commands = group.Proposed - commands0;
        long messages = group.MessagesDelivered - messages0;
        double pausePercent = 100 * (GC.GetTotalPauseDuration() - pause0).TotalSeconds / sw.Elapsed.TotalSeconds;
        string gcs = $"{GC.CollectionCount(0) - gc0}/{GC.CollectionCount(1) - gc1}/{GC.CollectionCount(2) - gc2}";
        Console.WriteLine($"{batchCommandsMax,16} {commands / sw.Elapsed.TotalSeconds,14:N0} {sw.Elapsed.TotalNanoseconds / commands,11:F1} {(double)bytes / commands,16:F1} {(double)messages / commands,13:F3} {gcs,14} {pausePercent,11:F1} {GC.GetTotalMemory(false) / 1e6,14:F1}");
    }
}
