namespace Kv.Storage.GroupCommit;

/// <summary>What a <see cref="GroupCommitter"/> has done since it started.</summary>
/// <param name="Syncs">Synced writes issued (failed ones included).</param>
/// <param name="SyncsFailed">Synced writes that threw; each failed every write it carried.</param>
/// <param name="Writes">Writes carried by synced writes (failed ones included).</param>
/// <param name="WritesPerSyncMax">The most writes one synced write carried.</param>
/// <param name="BytesTotal">Bytes of all synced batches.</param>
/// <param name="BytesPerSyncMax">The largest synced batch in bytes.</param>
/// <param name="SyncDurationMicrosMax">The longest synced write, in microseconds.</param>
/// <param name="SyncDurationMicrosTotal">Time spent in synced writes, in microseconds.</param>
/// <param name="WritesPerSyncHistogram">
/// Bucket <c>i</c> counts the syncs that carried from 2^i to 2^(i+1)−1 writes (1, 2–3, 4–7, …).
/// </param>
public sealed record GroupCommitStats(
    long Syncs,
    long SyncsFailed,
    long Writes,
    int WritesPerSyncMax,
    long BytesTotal,
    long BytesPerSyncMax,
    long SyncDurationMicrosMax,
    long SyncDurationMicrosTotal,
    IReadOnlyList<long> WritesPerSyncHistogram)
{
    /// <summary>The mean number of writes per synced write.</summary>
    public double WritesPerSyncAverage => Syncs == 0 ? 0 : (double)Writes / Syncs;

    /// <summary>The mean size of a synced batch in bytes.</summary>
    public double BytesPerSyncAverage => Syncs == 0 ? 0 : (double)BytesTotal / Syncs;

    /// <inheritdoc />
    public override string ToString() =>
        $"syncs={Syncs} syncs_failed={SyncsFailed} writes={Writes} writes_per_sync_avg={WritesPerSyncAverage:F1} "
        + $"writes_per_sync_max={WritesPerSyncMax} bytes_per_sync_avg={BytesPerSyncAverage:F0} bytes_per_sync_max={BytesPerSyncMax} "
        + $"sync_us_avg={(Syncs == 0 ? 0 : SyncDurationMicrosTotal / Syncs)} sync_us_max={SyncDurationMicrosMax} "
        + $"writes_per_sync_log2_histogram=[{string.Join(",", WritesPerSyncHistogram)}]";
}

/// <summary>Accumulates <see cref="GroupCommitStats"/>; written by the commit loop, read by anyone.</summary>
internal sealed class GroupCommitStatsRecorder
{
    private const int HistogramBuckets = 16;

    private readonly Lock _lock = new();
    private readonly long[] _histogram = new long[HistogramBuckets];
    private long _syncs, _syncsFailed, _writes, _bytesTotal, _bytesPerSyncMax, _syncMicrosMax, _syncMicrosTotal;
    private int _writesPerSyncMax;

    public void RecordSync(int writes, long bytes, long durationMicros, bool failed)
    {
        lock (_lock)
        {
            _syncs++;
            if (failed) _syncsFailed++;
            _writes += writes;
            _writesPerSyncMax = Math.Max(_writesPerSyncMax, writes);
            _bytesTotal += bytes;
            _bytesPerSyncMax = Math.Max(_bytesPerSyncMax, bytes);
            _syncMicrosMax = Math.Max(_syncMicrosMax, durationMicros);
            _syncMicrosTotal += durationMicros;
            _histogram[Math.Min(HistogramBuckets - 1, (int)Math.Log2(Math.Max(1, writes)))]++;
        }
    }

    public GroupCommitStats Read()
    {
        lock (_lock)
        {
            int used = _histogram.AsSpan().LastIndexOfAnyExcept(0L) + 1;
            return new GroupCommitStats(_syncs, _syncsFailed, _writes, _writesPerSyncMax, _bytesTotal,
                _bytesPerSyncMax, _syncMicrosMax, _syncMicrosTotal, _histogram[..used]);
        }
    }
}
