using System.Collections.Concurrent;
using Kv.Server.Clock;
using Kv.Storage.Encoding;

namespace Kv.Server.Tests.Clock;

public sealed class HybridLogicalClockConcurrencyTests
{
    private const int ThreadCount = 8;
    private const int TimestampsPerThread = 5_000;

    [Fact]
    public void ManyThreads_OnTheSystemClock_GetDistinctTimestamps_IncreasingPerThread()
    {
        // A tiny persist-ahead makes bound writes (and waits for them) frequent, to exercise that path too.
        var options = new HybridLogicalClockOptions { PersistAheadNanos = 50_000 };
        var written = new ConcurrentQueue<Timestamp>();
        int inFlight = 0, inFlightMax = 0;
        async ValueTask Persist(Timestamp bound)
        {
            int now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref inFlightMax, now);
            written.Enqueue(bound);
            await Task.Yield();
            Interlocked.Decrement(ref inFlight);
        }
        var clock = new HybridLogicalClock(new SystemPhysicalClock(), Timestamp.Zero, options, Persist);
        var perThread = new Timestamp[ThreadCount][];
        using var start = new Barrier(ThreadCount);

        var threads = Enumerable.Range(0, ThreadCount).Select(t => new Thread(() =>
        {
            var mine = new Timestamp[TimestampsPerThread];
            start.SignalAndWait();
            for (int i = 0; i < TimestampsPerThread; i++)
            {
                // Every few calls, "receive" a timestamp from another thread, as a handler would from a peer.
                ValueTask<Timestamp> next = i % 5 == 4 && perThread[(t + 1) % ThreadCount] is { } other
                    ? clock.UpdateAsync(other[0])
                    : clock.NowAsync();
                mine[i] = next.IsCompleted ? next.Result : next.AsTask().GetAwaiter().GetResult();
                if (i == 0) Volatile.Write(ref perThread[t], mine);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        foreach (Timestamp[] mine in perThread)
            for (int i = 1; i < mine.Length; i++) Assert.True(mine[i] > mine[i - 1], $"{mine[i]} after {mine[i - 1]}");
        var all = perThread.SelectMany(x => x).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(all, t => Assert.True(t <= clock.DurableBound));
        Assert.Equal(1, inFlightMax);
        var bounds = written.ToList();
        for (int i = 1; i < bounds.Count; i++) Assert.True(bounds[i] > bounds[i - 1]);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
