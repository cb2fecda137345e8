using System.Diagnostics;
using HdrHistogram;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using RocksDbSharp;

namespace Kv.Benchmarks.Storage;

/// <summary>
/// Synced group commit against one synced write at a time, with this disk's fsync time measured in the same run
/// so that the figures are ratios: `--group-commit [--seconds S] [--writers N] [--rounds R] [--wal-dir DIR]`. With a WAL
/// directory (on another device, so that the WAL's syncs do not queue behind flushes and compactions) the fsync probe runs
/// there too: the WAL's device is the one every synced write waits for.
/// </summary>
internal static class GroupCommitRunner
{
    private const int ValueBytes = 256;

    public static async Task RunAsync(double seconds, int writers, int rounds, string? walRoot)
    {
        string run = "kv-bench-gc-" + Guid.NewGuid().ToString("N");
        string dir = Path.Combine(Path.GetTempPath(), run);
        string? walDir = walRoot is null ? null : Path.Combine(Path.GetFullPath(walRoot), run);
        var throughputRatios = new List<double>();
        var latencyRatios = new List<double>();
        Console.WriteLine($"{ValueBytes}-byte random values (4,096 different ones); {rounds} rounds of {seconds} s per measure; fsync measured in every round");
        Console.WriteLine(walDir is null
            ? $"data and WAL in {dir}"
            : $"data in {dir}; WAL and fsync probe in {walDir}");
        Console.WriteLine();
        Console.WriteLine($"| round | fsync p50 | 1 writer puts/s | 1 writer p50 | {writers} writers puts/s | p50 | p99 | writes/sync | synced write | throughput ratio | p99 ÷ fsync |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                string roundDir = Path.Combine(dir, $"round{round}");
                string? roundWal = walDir is null ? null : Path.Combine(walDir, $"round{round}");
                string probeDir = roundWal ?? roundDir;
                double fsyncP50Us = MeasureFsync(probeDir, out _);
                using var store = NodeStore.Open(Path.Combine(roundDir, "db"), roundWal);
                var single = MeasureSingle(store, seconds);
                var (group, stats) = await MeasureGroupAsync(store, seconds, writers);
                // The fsync probe again after the load, so that one noisy probe does not skew the ratio.
                fsyncP50Us = (fsyncP50Us + MeasureFsync(probeDir, out _)) / 2;
                double throughputRatio = group.OpsPerSecond / single.OpsPerSecond;
                double latencyRatio = group.P99Us / fsyncP50Us;
                throughputRatios.Add(throughputRatio);
                latencyRatios.Add(latencyRatio);
                Console.WriteLine($"| {round} | {fsyncP50Us:F0} µs | {single.OpsPerSecond:N0} | {single.P50Us:F0} µs | {group.OpsPerSecond:N0} | {group.P50Us:F0} µs | " +
                                  $"{group.P99Us:F0} µs | {stats.WritesPerSyncAverage:F1} | {(double)stats.SyncDurationMicrosTotal / Math.Max(1, stats.Syncs):F0} µs | " +
                                  $"{throughputRatio:F1}× | {latencyRatio:F1} |");
            }
            throughputRatios.Sort();
            latencyRatios.Sort();
            Console.WriteLine();
            Console.WriteLine("| measure (median of the rounds) | value | target |");
            Console.WriteLine("| --- | ---: | --- |");
            Console.WriteLine($"| throughput, {writers} writers ÷ 1 writer | {throughputRatios[rounds / 2]:F1}× | ≥ 20× |");
            Console.WriteLine($"| p99 write latency ÷ fsync p50 | {latencyRatios[rounds / 2]:F1} | ≤ 4 |");
        }
        finally
        {
            string[] created = walDir is null ? [dir] : [dir, walDir];
            foreach (string path in created)
                try { Directory.Delete(path, recursive: true); } catch (IOException) { }
        }
    }

    private static double MeasureFsync(string dir, out double p99Us)
    {
        Directory.CreateDirectory(dir);
        var samples = new List<double>();
        using var file = new FileStream(Path.Combine(dir, "fsync.probe"), FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
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
        var values = RandomValues();
        using var batch = new WriteBatch();
        long ops = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            batch.Clear();
            batch.Put(Key(0, ops), values[ops % values.Length], store.Data);
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
        var values = RandomValues();
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(1, writers).Select(w => Task.Run(async () =>
        {
            long n = 0;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var value = values[(w * 7919 + n) % values.Length];
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

    /// <summary>
    /// 4,096 different random values: writes of one value over and over (or of zeros) would compress to almost nothing
    /// in the flushed SST files, and the flushes' bytes are what competes with the WAL's syncs on the disk.
    /// </summary>
    private static byte[][] RandomValues()
    {
        var random = new Random(42);
        return Enumerable.Range(0, 4096).Select(_ =>
        {
            var value = new byte[ValueBytes];
            random.NextBytes(value);
            return value;
        }).ToArray();
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
