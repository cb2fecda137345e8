using System.Diagnostics;
using System.Globalization;

namespace Kv.Load;

/// <summary>
/// Prints one line a second on stderr while a run lasts (operations so far and in the last second), so that a
/// stalled cluster shows as a flat count long before the run ends; stdout stays for the result.
/// </summary>
internal static class ProgressReporter
{
    public static async Task RunAsync(string label, LoadCounters counters, long measureStartTimestamp, double seconds, CancellationToken stop)
    {
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
                    : string.Create(CultureInfo.InvariantCulture, $"measuring {Math.Min(sinceMeasure, seconds):0}/{seconds:0} s");
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{label}] {phase}: {completed:N0} ops, {completed - last:N0} in the last second, {counters.Errors:N0} errors"));
                last = completed;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
