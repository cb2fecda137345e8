using System.Diagnostics;

namespace Kv.Load;

/// <summary>
/// <c>--op probe</c>: one put of the first key, retried until it succeeds or the time is up, so that a script can
/// wait for a freshly started cluster to elect a leader and serve writes.
/// </summary>
internal static class ReadinessProbe
{
    public static async Task<bool> RunAsync(ILoadTarget target, TimeSpan within, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        Exception? last = null;
        while (Stopwatch.GetElapsedTime(start) < within && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await target.PutAsync(0, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"probe: a put succeeded after {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s");
                return true;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                last = e;
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }
        }
        Console.Error.WriteLine($"probe: no put succeeded within {within.TotalSeconds:0} s; last error: {last?.Message}");
        return false;
    }
}
