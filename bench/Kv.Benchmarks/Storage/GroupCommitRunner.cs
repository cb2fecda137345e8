using System.Diagnostics;
using HdrHistogram;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using RocksDbSharp;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// Synced group commit against one synced write at a time, with this disk's fsync time measured in the same run
/// so that the figures are ratios: `--group-commit [--seconds S] [--writers N]`.
/// </summary>
internal static class GroupCommitRunner
{
    private const int ValueBytes = 256;

    public static async Task RunAsync(double seconds, int writers)
    {
        string dir = Path.Combine(Path.GetTempPath(), "kv-bench-gc-" + Guid.NewGuid().ToString("N"));
        try
        {
            double fsyncP50Us = MeasureFsync(dir, out double fsyncP99Us);
            Console.WriteLine($"fsync of a 256-byte append (this disk): p50 {fsyncP50Us:F1} µs, p99 {fsyncP99Us:F1} µs");

            using var store = NodeStore.Open(Path.Combine(dir, "db"));
            var single = MeasureSingle(store, seconds);
            Console.WriteLine($"1 writer, one synced put at a time: {single.OpsPerSecond:N0} puts/s, p50 {single.P50Us:F1} µs, p99 {single.P99Us:F1} µs");

            var (group, stats) = await MeasureGroupAsync(store, seconds, writers);
            Console.WriteLine($"{writers} writers through GroupCommitter: {group.OpsPerSecond:N0} puts/s, p50 {group.P50Us:F1} µs, p99 {group.P99Us:F1} µs, " +
                              $"{stats.Syncs:N0} syncs, {stats.WritesPerSyncAverage:F1} writes/sync (max {stats.WritesPerSyncMax})");

            Console.WriteLine();
            Console.WriteLine("| measure | value | target |");
            Console.WriteLine("| --- | ---: | --- |");
            Console.WriteLine($"| throughput, {writers} writers ÷ 1 writer | {group.OpsPerSecond / single.OpsPerSecond:F1}× | ≥ 20× |");
            Console.WriteLine($"| p99 write latency ÷ fsync p50 | {group.P99Us / fsyncP50Us:F1} | ≤ 4 |");
            Console.WriteLine($"| writes carried per sync (average) | {stats.WritesPerSyncAverage:F1} | |");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static double MeasureFsync(string dir, out double p99Us)
    {
        Directory.CreateDirectory(dir);
        var samples = new List<double>();
        using var file = new FileStream(Path.Combine(dir, "fsync.probe"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        var block = new byte[ValueBytes];
        for (int i = 0; i < 2_000; i++)
        {
            file.Write(block);
            long t = Stopwatch.GetTimestamp();
            file.Flush(flushToDisk: true);
            samples.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
        }
        samples.Sort();
        p99Us = samples[(int)(samples.Count * 0.99)];
        return samples[samples.Count / 2];
    }

    private static Result MeasureSingle(NodeStore store, double seconds)
    {
        var histogram = new LongHistogram(1, TimeStamp.Seconds(10), 3);
        var value = new byte[ValueBytes];
        using var batch = new WriteBatch();
        long ops = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            batch.Clear();
            batch.Put(Key(0, ops), value, store.Data);
            long t = Stopwatch.GetTimestamp();
            store.Db.Write(batch, store.SyncWrite);
            histogram.RecordValue(Stopwatch.GetTimestamp() - t);
            ops++;
        }
        return Result.From(histogram, ops, clock.Elapsed.TotalSeconds);
    }

    private static async Task<(Result, GroupCommitStats)> MeasureGroupAsync(NodeStore store, double seconds, int writers)
    {
        var committer = new GroupCommitter(store);
        var histogram = new LongConcurrentHistogram(1, TimeStamp.Seconds(10), 3);
        long ops = 0;
        var value = new byte[ValueBytes];
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(1, writers).Select(w => Task.Run(async () =>
        {
            long n = 0;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var key = Key(w, n++);
                long t = Stopwatch.GetTimestamp();
                await committer.CommitAsync((key, value, store), static (batch, s) => batch.Put(s.key, s.value, s.store.Data));
                histogram.RecordValue(Stopwatch.GetTimestamp() - t);
            }
            Interlocked.Add(ref ops, n);
        })).ToArray();
        await Task.WhenAll(tasks);
        double elapsed = clock.Elapsed.TotalSeconds;
        var stats = committer.GetStats();
        await committer.DisposeAsync();
        return (Result.From(histogram, ops, elapsed), stats);
    }

    private static byte[] Key(int writer, long n)
    {
        var key = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(key, writer);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(4), n);
        return key;
    }

    private readonly record struct Result(double OpsPerSecond, double P50Us, double P99Us)
    {
        public static Result From(HistogramBase h, long ops, double seconds)
        {
            double ticksPerUs = Stopwatch.Frequency / 1e6;
            return new Result(ops / seconds, h.GetValueAtPercentile(50) / ticksPerUs, h.GetValueAtPercentile(99) / ticksPerUs);
        }
    }
}
