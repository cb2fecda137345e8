using System.Diagnostics;

namespace Kv.ClientBench;

/// <summary>
/// The measured phases. Latency: every variant runs in blocks, one block of each per round, the order rotating from
/// round to round, so that noise on the shared machine lands on all of them alike; each Get's latency is kept
/// (Stopwatch ticks) and percentiles are exact (nearest rank over the sorted samples). Allocations: the process-wide
/// allocated-bytes counter around a loop of sequential Gets with nothing else running in the process.
/// </summary>
internal static class Measurements
{
    /// <summary>The variants timed and measured for allocations: sdk and raw (the target), the rest diagnostic.</summary>
    public static readonly Variant[] All =
        [Variant.Sdk, Variant.Raw, Variant.RawDeadline, Variant.RawSharedToken, Variant.RawHttpClient, Variant.SdkLeaderFirst];

    /// <summary>Another channel set-up of the raw call, measured for allocations only (diagnostic).</summary>
    public static readonly Variant[] AllocationOnly = [Variant.RawDefaultChannel];

    /// <summary>Warms every variant up in alternating blocks (JIT tiering, connections, the SDK's leader and range map).</summary>
    public static async Task WarmUpAsync(GetVariants gets, Variant[] variants, int getsPerVariant)
    {
        if (getsPerVariant == 0) return;
        var scratch = new long[getsPerVariant];
        const int Block = 100;
        for (int done = 0; done < getsPerVariant; done += Block)
        {
            foreach (var v in variants) await gets.RunAsync(v, scratch, 0, Math.Min(Block, getsPerVariant - done)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <paramref name="blocks"/> rounds; in each, every variant runs one block in which <paramref name="callers"/>
    /// callers each do <paramref name="getsPerCaller"/> sequential Gets (closed loop, one outstanding per caller).
    /// </summary>
    public static async Task<LatencyRun> LatencyAsync(GetVariants gets, int callers, int getsPerCaller, int blocks)
    {
        int perBlock = callers * getsPerCaller;
        var samples = All.ToDictionary(v => v, _ => new long[perBlock * blocks]);
        var busyTicks = All.ToDictionary(v => v, _ => 0L);
        var clock = Stopwatch.StartNew();
        for (int b = 0; b < blocks; b++)
        {
            for (int k = 0; k < All.Length; k++)
            {
                var v = All[(b + k) % All.Length];
                long start = Stopwatch.GetTimestamp();
                if (callers == 1)
                {
                    await gets.RunAsync(v, samples[v], b * perBlock, getsPerCaller).ConfigureAwait(false);
                }
                else
                {
                    var tasks = new Task[callers];
                    for (int c = 0; c < callers; c++)
                    {
                        int offset = b * perBlock + c * getsPerCaller;
                        tasks[c] = Task.Run(() => gets.RunAsync(v, samples[v], offset, getsPerCaller));
                    }
                    await Task.WhenAll(tasks).ConfigureAwait(false);
                }
                busyTicks[v] += Stopwatch.GetTimestamp() - start;
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;

        var results = All.Select(v => Summarize(v, samples[v], perBlock, blocks, busyTicks[v])).ToArray();
        var sdk = results[0];
        var raw = results[1];
        var ratios = sdk.BlockMediansUs.Zip(raw.BlockMediansUs, (a, r) => a / r).Order().ToArray();
        return new LatencyRun(callers, getsPerCaller, blocks, results, sdk.P50Us / raw.P50Us,
            new RatioSpread(ratios[0], Rank(ratios, 0.10), Rank(ratios, 0.50), Rank(ratios, 0.90), ratios[^1], ratios.Length), seconds);
    }

    private static VariantLatency Summarize(Variant v, long[] ticks, int perBlock, int blocks, long busyTicks)
    {
        var blockMedians = new double[blocks];
        for (int b = 0; b < blocks; b++)
        {
            var block = ticks.AsSpan(b * perBlock, perBlock).ToArray();
            Array.Sort(block);
            blockMedians[b] = Us(Rank(block, 0.5));
        }
        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        return new VariantLatency(Name(v), sorted.Length, Us(Rank(sorted, 0.50)), Us(Rank(sorted, 0.90)), Us(Rank(sorted, 0.99)),
            Us(Rank(sorted, 0.999)), Us(sorted[^1]), Us((long)sorted.Average()),
            sorted.Length / ((double)busyTicks / Stopwatch.Frequency), blockMedians);
    }

    /// <summary>
    /// <paramref name="rounds"/> rounds; in each, every variant (order rotating) runs <paramref name="getsPerRound"/>
    /// sequential Gets between two readings of <c>GC.GetTotalAllocatedBytes(precise: true)</c>.
    /// </summary>
    public static async Task<AllocationRound[]> AllocationsAsync(GetVariants gets, Variant[] variants, int getsPerRound, int rounds)
    {
        var scratch = new long[getsPerRound];
        var results = new List<AllocationRound>();
        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < variants.Length; k++)
            {
                var v = variants[(r + k) % variants.Length];
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                int gen0 = GC.CollectionCount(0);
                var cpuBefore = Environment.CpuUsage.TotalTime;
                long start = Stopwatch.GetTimestamp();
                long before = GC.GetTotalAllocatedBytes(precise: true);
                await gets.RunAsync(v, scratch, 0, getsPerRound).ConfigureAwait(false);
                long after = GC.GetTotalAllocatedBytes(precise: true);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                double cpuUs = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds / getsPerRound;
                results.Add(new AllocationRound(Name(v), r + 1, getsPerRound, after - before, (double)(after - before) / getsPerRound,
                    GC.CollectionCount(0) - gen0, seconds, cpuUs));
            }
        }
        return results.ToArray();
    }

    public static string Name(Variant v) => v switch
    {
        Variant.Sdk => "sdk",
        Variant.SdkLeaderFirst => "sdk, leader first seed",
        Variant.Raw => "raw",
        Variant.RawDeadline => "raw+deadline",
        Variant.RawSharedToken => "raw+shared token",
        Variant.RawDefaultChannel => "raw, default channel",
        Variant.RawHttpClient => "raw, HttpClient channel",
        _ => v.ToString(),
    };

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static T Rank<T>(T[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
