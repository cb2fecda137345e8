using System.Diagnostics.Metrics;

namespace Kv.Storage.GroupCommit;

/// <summary>
/// The group committer's instruments, on the meter <see cref="MeterName"/> (docs/observability.md lists them): how
/// long each synced write took, how many writers and bytes it carried, and how many failed. Created from the host's
/// <see cref="IMeterFactory"/>, so that every node in a process has meters of its own; hand it to
/// <see cref="GroupCommitter"/>.
/// </summary>
public sealed class GroupCommitMetrics
{
    /// <summary>The meter's name, for exporters to subscribe to.</summary>
    public const string MeterName = "Kv.Storage";

    // fsync on SSDs takes tens of microseconds to milliseconds; a second or more is a sick disk.
    private static readonly IReadOnlyList<double> SecondsBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private static readonly IReadOnlyList<long> WritesBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    private static readonly IReadOnlyList<long> BytesBuckets = [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

    private readonly Histogram<double> _syncSeconds;
    private readonly Histogram<long> _writesPerSync;
    private readonly Histogram<long> _bytesPerSync;
    private long _syncFailures;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public GroupCommitMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _syncSeconds = meter.CreateHistogram("kv.storage.fsync.duration", "s", "Duration of one synced RocksDB write (group commit).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        _writesPerSync = meter.CreateHistogram("kv.storage.fsync.writes", "{write}", "Writers whose work one synced write carried.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = WritesBuckets });
        _bytesPerSync = meter.CreateHistogram("kv.storage.fsync.size", "By", "Bytes of one synced write batch.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = BytesBuckets });
        // Observable, so that it is exported at 0 from the start rather than only after the first failure.
        meter.CreateObservableCounter("kv.storage.fsync.failures", () => Interlocked.Read(ref _syncFailures), "{sync}",
            "Synced writes that threw (each failed every writer it carried).");
    }

    /// <summary>Records one synced write: its writers, bytes, duration, and whether it failed.</summary>
    public void RecordSync(int writes, long bytes, TimeSpan duration, bool failed)
    {
        _syncSeconds.Record(duration.TotalSeconds);
        _writesPerSync.Record(writes);
        _bytesPerSync.Record(bytes);
        if (failed) Interlocked.Increment(ref _syncFailures);
    }
}
