using System.Diagnostics;

namespace Kv.Load;

/// <summary>Where an operation's latency is measured from.</summary>
internal enum LatencyOrigin
{
    /// <summary>Open loop: the time the schedule said the operation was due (closed loop: when it started, the same thing).</summary>
    Intended,

    /// <summary>When a worker actually started the operation. Hides stalls in an open loop (coordinated omission): only for tests that show it.</summary>
    ActualStart,
}

/// <summary>What a run produced: every worker's measurements, the per-second series, and what the run cost.</summary>
/// <param name="Workers">Each worker's histograms and failures (operations that started inside the measured window).</param>
/// <param name="ClientCores">This load generator's CPU time ÷ the run's wall time.</param>
/// <param name="MeasuredSeconds">The measured window's length: <c>--seconds</c>, or for <c>--operations</c> how long they took (closed loop) or were scheduled over (open loop).</param>
/// <param name="Series">Operations by the second in which they ended, warmup included.</param>
/// <param name="ServerCpuSeconds">CPU seconds the <c>--server-pids</c> used over the measured window (null without them, or when one was gone).</param>
internal sealed record RunOutcome(IReadOnlyList<WorkerResult> Workers, double ClientCores, double MeasuredSeconds,
    PerSecondSeries Series, double? ServerCpuSeconds);

/// <summary>
/// Runs N workers through a warmup and a measured window. Closed loop (the default): each worker runs the operation
/// (which picks its own random key or accounts) and waits for its answer before the next. Open loop
/// (<c>--rate R</c>): the workers take operations off an <see cref="OpenLoopSchedule"/> at R per second and each
/// operation's latency counts from when it was due, so a stalled system shows in the latency even while every worker
/// is stuck waiting (<c>--clients</c> is then how many may be in flight). An operation is measured when it starts (is
/// due) inside the window, so it counts even if it ends after, which keeps throughput = measured ops ÷ window unbiased.
/// </summary>
internal static class LoadRunner
{
    /// <summary>Latencies above a minute are clamped to it: the histogram's range, far beyond any call timeout.</summary>
    public const long LatencyUsMax = 60_000_000;

    /// <summary>One operation: picks what it works on with the worker's random source, runs it, throws on failure.</summary>
    public delegate Task<OperationOutcome> Operation(Random random, CancellationToken cancellationToken);

    /// <summary>Runs the workers; <paramref name="timeline"/>, when given, samples alongside from the start to the end.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="variants">How many kinds of operation <paramref name="operation"/> reports (<see cref="OperationOutcome.Variant"/>), each with its own histograms.</param>
    /// <param name="operation">One operation.</param>
    /// <param name="timeline">Sampled alongside, when given.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <param name="origin">Where latency is measured from (tests only set <see cref="LatencyOrigin.ActualStart"/>).</param>
    public static async Task<RunOutcome> RunAsync(
        LoadOptions options, int variants, Operation operation, Timeline? timeline, CancellationToken cancellationToken,
        LatencyOrigin origin = LatencyOrigin.Intended)
    {
        var counters = new LoadCounters();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        long measureStart = start + (long)(options.WarmupSeconds * Stopwatch.Frequency);
        var schedule = options.RatePerSecond is { } rate ? new OpenLoopSchedule(rate, start, Stopwatch.Frequency) : null;
        long? operationsMax = options.Operations;
        // The window: --seconds long, or for --operations in an open loop the time they are scheduled over; a closed loop
        // with --operations ends when that many have started.
        double windowSeconds = operationsMax is { } n && options.RatePerSecond is { } r ? n / r : options.Seconds;
        long measureEnd = operationsMax is not null && schedule is null
            ? long.MaxValue
            : measureStart + (long)(windowSeconds * Stopwatch.Frequency);
        long measuredStarted = 0;
        long lastMeasuredEnd = measureStart;
        var series = new PerSecondSeries(start, Stopwatch.Frequency, options.WarmupSeconds, LatencyUsMax);

        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = ProgressReporter.RunAsync(Label(options), counters, series, measureStart, options, progressStop.Token);
        var sampling = timeline?.RunAsync(start, counters, progressStop.Token) ?? Task.CompletedTask;
        var serverCpu = options.ServerPids.Count > 0 ? SampleServersAsync(progressStop.Token) : null;

        // Task.Run so that the workers start together on the thread pool rather than one after another on this thread.
        var workers = Enumerable.Range(0, options.Clients)
            .Select(w => Task.Run(() => WorkerAsync(w), cancellationToken))
            .ToArray();
        var results = await Task.WhenAll(workers).ConfigureAwait(false);
        // The load generator shares the machine with the servers: its own CPU use tells whether it was the limit.
        double clientCores = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds
            / Stopwatch.GetElapsedTime(start).TotalSeconds;
        double? serverCpuSeconds = null;
        if (serverCpu is not null)
        {
            var atMeasureStart = await serverCpu.ConfigureAwait(false);
            var atEnd = ProcessCpu.Sample(options.ServerPids);
            if (atMeasureStart is not null && atMeasureStart.All(s => s is not null) && atEnd.All(s => s is not null))
                serverCpuSeconds = atEnd.Sum(s => s!.Value) - atMeasureStart.Sum(s => s!.Value);
        }
        if (timeline is not null && options.DrainSeconds > 0)
            await Task.Delay(TimeSpan.FromSeconds(options.DrainSeconds), cancellationToken).ConfigureAwait(false);
        await progressStop.CancelAsync().ConfigureAwait(false);
        await progress.ConfigureAwait(false);
        await sampling.ConfigureAwait(false);
        double measuredSeconds = operationsMax is not null && schedule is null
            ? Math.Max(1e-6, (Interlocked.Read(ref lastMeasuredEnd) - measureStart) / (double)Stopwatch.Frequency)
            : windowSeconds;
        return new RunOutcome(results, clientCores, measuredSeconds, series, serverCpuSeconds);

        // Null when the run was stopped before its measured window began.
        async Task<double?[]?> SampleServersAsync(CancellationToken stop)
        {
            var wait = TimeSpan.FromTicks((measureStart - Stopwatch.GetTimestamp()) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
            try
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return null;
            }
            return ProcessCpu.Sample(options.ServerPids);
        }

        async Task<WorkerResult> WorkerAsync(int worker)
        {
            var random = new Random(HashCode.Combine(options.Seed, worker));
            var result = new WorkerResult(variants, LatencyUsMax);
            while (!cancellationToken.IsCancellationRequested)
            {
                long intended;
                if (schedule is null)
                {
                    intended = Stopwatch.GetTimestamp();
                }
                else
                {
                    (_, intended) = schedule.Claim();
                    if (intended >= measureEnd) break;
                    await WaitUntilAsync(intended, cancellationToken).ConfigureAwait(false);
                }
                if (intended >= measureEnd) break;
                bool measured = intended >= measureStart;
                if (measured && operationsMax is { } max && schedule is null && Interlocked.Increment(ref measuredStarted) > max) break;
                long began = origin == LatencyOrigin.Intended ? intended : Stopwatch.GetTimestamp();
                OperationOutcome outcome;
                try
                {
                    outcome = await operation(random, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    long failedAt = Stopwatch.GetTimestamp();
                    counters.Failed();
                    series.Failure(failedAt);
                    if (measured) result.Error(e, ToUs(failedAt - began));
                    continue;
                }
                long ended = Stopwatch.GetTimestamp();
                long us = ToUs(ended - began);
                counters.Success(outcome.Retries);
                series.Success(ended, us);
                if (measured)
                {
                    result.Histograms[outcome.Variant].RecordValue(Math.Clamp(us, 1, LatencyUsMax));
                    if (outcome.CommitUs > 0) result.CommitHistograms[outcome.Variant].RecordValue(Math.Clamp(outcome.CommitUs, 1, LatencyUsMax));
                    result.Retries[outcome.Variant] += outcome.Retries;
                    if (operationsMax is not null) InterlockedMax(ref lastMeasuredEnd, ended);
                }
            }
            return result;
        }
    }

    private static string Label(LoadOptions options) =>
        $"{options.Target.ToString().ToLowerInvariant()} {options.Operation.ToString().ToLowerInvariant()}"
        + (options.Workload is { } w ? $" {w.Name}" : "")
        + $" c={options.Clients}"
        + (options.RatePerSecond is { } rate ? FormattableString.Invariant($" rate={rate:0}/s") : "")
        + (options.Operation == LoadOperation.Transfer ? $" r={options.RangesPerTxn} {options.Protocol}" : "");

    private static long ToUs(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Sleeps until <paramref name="timestamp"/>: Task.Delay for the bulk (it wakes a millisecond or more late), then yields.</summary>
    private static async Task WaitUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        while (true)
        {
            long left = timestamp - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            double ms = left * 1000.0 / Stopwatch.Frequency;
            if (ms > 2) await Task.Delay(TimeSpan.FromMilliseconds(ms - 1), cancellationToken).ConfigureAwait(false);
            else await Task.Yield();
        }
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long seen = Interlocked.Read(ref location);
        while (value > seen)
        {
            long was = Interlocked.CompareExchange(ref location, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
