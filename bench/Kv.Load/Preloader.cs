using System.Diagnostics;

namespace Kv.Load;

/// <summary>Writes every key once before a read run (not timed), so that every read finds a value.</summary>
internal static class Preloader
{
    /// <summary>Puts every key with <paramref name="concurrency"/> writers; a key that still fails after the SDK's retries fails the run.</summary>
    public static async Task RunAsync(ILoadTarget target, KeySpace keys, int concurrency, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (key, token) => await target.PutAsync(key, token).ConfigureAwait(false)).ConfigureAwait(false);
        Console.Error.WriteLine($"preloaded {keys.Count:N0} keys in {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s");
    }
}
