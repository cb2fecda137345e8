using BenchmarkDotNet.Columns;
using Perfolizer.Horology;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Kv.Benchmarks;

// Modes:
//   --throughput [--seconds S] [--only B]   plain Stopwatch loop over the same harness (no BenchmarkDotNet),
//                                           S seconds per BatchCommandsMax variant (default 5), or only B
//   --group-commit [--seconds S] [--writers N] [--rounds R] [--wal-dir DIR]  synced group commit vs one synced write at a
//                                           time, with fsync time; the WAL under DIR (e.g. on another device) if given
//   --mvcc-reads [--seconds S] [--rounds R]  MVCC point reads and scans as a plain loop, wall and CPU time per op
//                                           (S seconds per measure and round, default 2; R rounds, default 5)
//   --quick                                 BenchmarkDotNet short job (3 warmup + 3 measured iterations of 100 ms), in process
//                                           (≈ 2 s per case plus setup; the whole suite ≈ 1.5 min)
//   (otherwise)                             BenchmarkDotNet default job, out of process (≈ 3.5 min)
if (args.Contains("--throughput"))
{
    double seconds = 5;
    int at = Array.IndexOf(args, "--seconds");
    if (at >= 0 && at + 1 < args.Length) seconds = double.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture);
    int onlyAt = Array.IndexOf(args, "--only");
    int? only = onlyAt >= 0 && onlyAt + 1 < args.Length ? int.Parse(args[onlyAt + 1], System.Globalization.CultureInfo.InvariantCulture) : null;
    ThroughputRunner.Run(seconds, only);
    return;
}

if (args.Contains("--group-commit"))
{
    int secondsAt = Array.IndexOf(args, "--seconds");
    double seconds = secondsAt >= 0 ? double.Parse(args[secondsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    int writersAt = Array.IndexOf(args, "--writers");
    int writers = writersAt >= 0 ? int.Parse(args[writersAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 64;
    int roundsAt = Array.IndexOf(args, "--rounds");
    int rounds = roundsAt >= 0 ? int.Parse(args[roundsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    int walDirAt = Array.IndexOf(args, "--wal-dir");
    string? walRoot = walDirAt >= 0 ? args[walDirAt + 1] : null;
    await Kv.Benchmarks.Storage.GroupCommitRunner.RunAsync(seconds, writers, rounds, walRoot);
    return;
}

if (args.Contains("--mvcc-reads"))
{
    int secondsAt = Array.IndexOf(args, "--seconds");
    double seconds = secondsAt >= 0 ? double.Parse(args[secondsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 2;
    int roundsAt = Array.IndexOf(args, "--rounds");
    int rounds = roundsAt >= 0 ? int.Parse(args[roundsAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 5;
    Kv.Benchmarks.Storage.MvccReadRunner.Run(seconds, rounds);
    return;
}

bool quick = args.Contains("--quick");
var rest = args.Where(a => a != "--quick").ToArray();
IConfig config = DefaultConfig.Instance.AddColumn(StatisticColumn.OperationsPerSecond);
if (quick)
    config = config.AddJob(Job.ShortRun.WithIterationTime(TimeInterval.FromMilliseconds(100))
        .WithToolchain(InProcessEmitToolchain.Instance).WithId("Quick"));
BenchmarkSwitcher.FromAssembly(typeof(PaxosGroupBenchmark).Assembly).Run(rest, config);
