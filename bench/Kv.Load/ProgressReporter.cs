using System.Diagnostics;
using System.Globalization;

namespace Kv.Load;

/// <summary>
/// A progress line on stderr once a second while a run lasts: the phase, operations so far and in the last second,
/// the last second's p50 and p99, and errors, so that a stalled cluster shows as a flat count long before the run
/// ends; stdout stays for the result. On a terminal the line is rewritten in place; redirected, one line a second.
/// </summary>
internal static class ProgressReporter
{
    public static async Task RunAsync(string label, LoadCounters counters, PerSecondSeries series, long measureStartTimestamp,
        LoadOptions options, CancellationToken stop)
    {
        bool live = !Console.IsErrorRedirected;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long last = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = Stopwatch.GetTimestamp();
                long completed = counters.Completed;
                double sinceMeasure = (now - measureStartTimestamp) / (double)Stopwatch.Frequency;
                string phase = sinceMeasure < 0
                    ? string.Create(CultureInfo.InvariantCulture, $"warmup, {-sinceMeasure:0} s left")
                    : options.Operations is { } n && options.RatePerSecond is null
                        ? string.Create(CultureInfo.InvariantCulture, $"measuring {sinceMeasure:0} s (until {n:N0} operations)")
                        : string.Create(CultureInfo.InvariantCulture, $"measuring {Math.Min(sinceMeasure, options.Seconds):0}/{options.Seconds:0} s");
                var points = series.Points();
                // The last whole second (the newest one is still filling).
                var second = points.Count >= 2 ? points[^2] : null;
                string latency = second is { Ops: > 0 }
                    ? string.Create(CultureInfo.InvariantCulture, $", p50 {second.P50Us / 1000.0:0.0} ms p99 {second.P99Us / 1000.0:0.0} ms")
                    : "";
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"[{label}] {phase}: {completed:N0} ops, {completed - last:N0} in the last second{latency}, {counters.Errors:N0} errors");
                if (live) Console.Error.Write("\r" + line.PadRight(Console.BufferWidth > 1 ? Math.Min(Console.BufferWidth - 1, 160) : 120));
                else Console.Error.WriteLine(line);
                last = completed;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        if (live) Console.Error.WriteLine();
    }
}
