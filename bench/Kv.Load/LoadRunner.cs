using System.Diagnostics;
using HdrHistogram;

namespace Kv.Load;

/// <summary>
/// A closed loop: N workers each pick a random key, run the operation, and wait for its answer before the next.
/// Every worker runs through the warmup and the measured window; an operation is measured when it <em>starts</em>
/// inside the window (so it counts even if it ends after), which keeps throughput = measured ops ÷ window unbiased.
/// </summary>
internal static class LoadRunner
{
    /// <summary>Latencies above a minute are clamped to it: the histogram's range, far beyond any call timeout.</summary>
    private const long LatencyUsMax = 60_000_000;

    public static async Task<LoadResult> RunAsync(ILoadTarget target, LoadOptions options, KeySpace keys, CancellationToken cancellationToken)
    {
        Func<int, CancellationToken, Task> operation = options.Operation switch
        {
            LoadOperation.Put => target.PutAsync,
            LoadOperation.Get => target.GetAsync,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Operation, "not a load operation"),
        };
        var counters = new LoadCounters();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        long measureStart = start + (long)(options.WarmupSeconds * Stopwatch.Frequency);
        long measureEnd = measureStart + (long)(options.Seconds * Stopwatch.Frequency);

        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        string label = $"{options.Target.ToString().ToLowerInvariant()} {options.Operation.ToString().ToLowerInvariant()} c={options.Clients}";
        var progress = ProgressReporter.RunAsync(label, counters, measureStart, options.Seconds, progressStop.Token);

        // Task.Run so that the workers start together on the thread pool rather than one after another on this thread.
        var workers = Enumerable.Range(0, options.Clients)
            .Select(w => Task.Run(() => WorkerAsync(w), cancellationToken))
            .ToArray();
        var results = await Task.WhenAll(workers).ConfigureAwait(false);
        // The load generator shares the machine with the servers: its own CPU use tells whether it was the limit.
        double clientCores = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds
            / Stopwatch.GetElapsedTime(start).TotalSeconds;
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);
        return LoadResult.Merge(options, results, clientCores);

        async Task<WorkerResult> WorkerAsync(int worker)
        {
            var random = new Random(HashCode.Combine(options.Seed, worker));
            var result = new WorkerResult(new LongHistogram(LatencyUsMax, 3));
            while (!cancellationToken.IsCancellationRequested)
            {
                long began = Stopwatch.GetTimestamp();
                if (began >= measureEnd) break;
                bool measured = began >= measureStart;
                int key = random.Next(keys.Count);
                try
                {
                    await operation(key, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    counters.Failed();
                    if (measured) result.Error(e);
                    continue;
                }
                counters.Succeeded();
                if (measured)
                {
                    long us = (Stopwatch.GetTimestamp() - began) * 1_000_000 / Stopwatch.Frequency;
                    result.Histogram.RecordValue(Math.Clamp(us, 1, LatencyUsMax));
                }
            }
            return result;
        }
    }
}
