using System.Diagnostics;

namespace Kv.Load;

/// <summary>
/// A closed loop: N workers each run the operation (which picks its own random key or accounts) and wait for its
/// answer before the next. Every worker runs through the warmup and the measured window; an operation is measured
/// when it <em>starts</em> inside the window (so it counts even if it ends after), which keeps throughput = measured
/// ops ÷ window unbiased.
/// </summary>
internal static class LoadRunner
{
    /// <summary>Latencies above a minute are clamped to it: the histogram's range, far beyond any call timeout.</summary>
    private const long LatencyUsMax = 60_000_000;

    /// <summary>One operation: picks what it works on with the worker's random source, runs it, throws on failure.</summary>
    public delegate Task<OperationOutcome> Operation(Random random, CancellationToken cancellationToken);

    /// <summary>Runs the workers; <paramref name="timeline"/>, when given, samples alongside from the start to the end.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="variants">How many kinds of operation <paramref name="operation"/> reports (<see cref="OperationOutcome.Variant"/>), each with its own histograms.</param>
    /// <param name="operation">One operation.</param>
    /// <param name="timeline">Sampled alongside, when given.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<(IReadOnlyList<WorkerResult> Workers, double ClientCores)> RunAsync(
        LoadOptions options, int variants, Operation operation, Timeline? timeline, CancellationToken cancellationToken)
    {
        var counters = new LoadCounters();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        long measureStart = start + (long)(options.WarmupSeconds * Stopwatch.Frequency);
        long measureEnd = measureStart + (long)(options.Seconds * Stopwatch.Frequency);

        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        string label = $"{options.Target.ToString().ToLowerInvariant()} {options.Operation.ToString().ToLowerInvariant()} c={options.Clients}"
            + (options.Operation == LoadOperation.Transfer ? $" r={options.RangesPerTxn} {options.Protocol}" : "");
        var progress = ProgressReporter.RunAsync(label, counters, measureStart, options.Seconds, progressStop.Token);
        var sampling = timeline?.RunAsync(start, counters, progressStop.Token) ?? Task.CompletedTask;

        // Task.Run so that the workers start together on the thread pool rather than one after another on this thread.
        var workers = Enumerable.Range(0, options.Clients)
            .Select(w => Task.Run(() => WorkerAsync(w), cancellationToken))
            .ToArray();
        var results = await Task.WhenAll(workers).ConfigureAwait(false);
        // The load generator shares the machine with the servers: its own CPU use tells whether it was the limit.
        double clientCores = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds
            / Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (timeline is not null && options.DrainSeconds > 0)
            await Task.Delay(TimeSpan.FromSeconds(options.DrainSeconds), cancellationToken).ConfigureAwait(false);
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);
        await sampling.ConfigureAwait(false);
        return (results, clientCores);

        async Task<WorkerResult> WorkerAsync(int worker)
        {
            var random = new Random(HashCode.Combine(options.Seed, worker));
            var result = new WorkerResult(variants, LatencyUsMax);
            while (!cancellationToken.IsCancellationRequested)
            {
                long began = Stopwatch.GetTimestamp();
                if (began >= measureEnd) break;
                bool measured = began >= measureStart;
                OperationOutcome outcome;
                try
                {
                    outcome = await operation(random, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    counters.Failed();
                    if (measured) result.Error(e, (Stopwatch.GetTimestamp() - began) * 1_000_000 / Stopwatch.Frequency);
                    continue;
                }
                counters.Success(outcome.Retries);
                if (measured)
                {
                    long us = (Stopwatch.GetTimestamp() - began) * 1_000_000 / Stopwatch.Frequency;
                    result.Histograms[outcome.Variant].RecordValue(Math.Clamp(us, 1, LatencyUsMax));
                    if (outcome.CommitUs > 0) result.CommitHistograms[outcome.Variant].RecordValue(Math.Clamp(outcome.CommitUs, 1, LatencyUsMax));
                    result.Retries[outcome.Variant] += outcome.Retries;
                }
            }
            return result;
        }
    }
}
