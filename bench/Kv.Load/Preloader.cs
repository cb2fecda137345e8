using System.Diagnostics;

namespace Kv.Load;

/// <summary>Writes every key once before a read run (not timed), so that every read finds a value.</summary>
internal static class Preloader
{
    /// <summary>
    /// Puts every key, in chunks of <see cref="ILoadTarget.PutManyKeysMax"/> consecutive keys (etcd: one transaction of
    /// 128 puts each; Kv: single puts, see <see cref="KvTarget.PutManyKeysMax"/>), at most <paramref name="concurrency"/>
    /// chunks at a time; a key that still fails after the client's retries fails the run.
    /// </summary>
    public static async Task RunAsync(ILoadTarget target, KeySpace keys, int concurrency, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Chunks(keys.Count, target.PutManyKeysMax),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(concurrency, 1), CancellationToken = cancellationToken },
            async (chunk, token) => await target.PutManyAsync(chunk.First, chunk.Count, token).ConfigureAwait(false)).ConfigureAwait(false);
        Console.Error.WriteLine($"preloaded {keys.Count:N0} keys in {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s");
    }

    /// <summary>Keys 0 … <paramref name="keys"/> − 1 as runs of consecutive keys, each at most <paramref name="chunkMax"/> long.</summary>
    public static IEnumerable<(int First, int Count)> Chunks(int keys, int chunkMax)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkMax, 1);
        for (int first = 0; first < keys; first += chunkMax) yield return (first, Math.Min(chunkMax, keys - first));
    }
}
