using HdrHistogram;

namespace Kv.Load;

/// <summary>
/// Operations by the second of the run (from its start, warmup included) in which they <em>ended</em>: successes with
/// their latency histogram, and failures. Shared by the workers (concurrent histograms), read at the end into
/// <see cref="PerSecondPoint"/>s and, while the run lasts, for the progress line.
/// </summary>
internal sealed class PerSecondSeries
{
    private readonly long _startTimestamp;
    private readonly long _ticksPerSecond;
    private readonly long _latencyUsMax;
    private readonly double _warmupSeconds;
    private readonly Lock _grow = new();
    private LongConcurrentHistogram[] _histograms = [];
    private long[] _errors = [];

    public PerSecondSeries(long startTimestamp, long ticksPerSecond, double warmupSeconds, long latencyUsMax)
    {
        _startTimestamp = startTimestamp;
        _ticksPerSecond = ticksPerSecond;
        _warmupSeconds = warmupSeconds;
        _latencyUsMax = latencyUsMax;
    }

    /// <summary>A success that ended at <paramref name="endTimestamp"/> after <paramref name="latencyUs"/>.</summary>
    public void Success(long endTimestamp, long latencyUs) =>
        Bucket(endTimestamp).histogram.RecordValue(Math.Clamp(latencyUs, 1, _latencyUsMax));

    /// <summary>A failure that ended at <paramref name="endTimestamp"/>.</summary>
    public void Failure(long endTimestamp)
    {
        var (_, second) = Bucket(endTimestamp);
        // Under the lock that swaps the arrays when they grow, so that no failure is counted into a discarded one.
        lock (_grow) _errors[second]++;
    }

    /// <summary>The seconds so far, in order (the last one may still be filling).</summary>
    public IReadOnlyList<PerSecondPoint> Points()
    {
        LongConcurrentHistogram[] histograms;
        long[] errors;
        lock (_grow)
        {
            histograms = _histograms;
            errors = (long[])_errors.Clone();
        }
        var points = new PerSecondPoint[histograms.Length];
        for (int s = 0; s < histograms.Length; s++)
        {
            var summary = LatencySummary.From(histograms[s]);
            points[s] = new PerSecondPoint(s, s + 1 <= _warmupSeconds, summary.Count, errors[s], summary.P50Us, summary.P99Us, summary.MaxUs);
        }
        return points;
    }

    private (LongConcurrentHistogram histogram, int second) Bucket(long timestamp)
    {
        int second = (int)Math.Max(0, (timestamp - _startTimestamp) / _ticksPerSecond);
        var histograms = Volatile.Read(ref _histograms);
        if (second < histograms.Length) return (histograms[second], second);
        lock (_grow)
        {
            if (second >= _histograms.Length)
            {
                int length = Math.Max(second + 1, _histograms.Length * 2);
                var grown = new LongConcurrentHistogram[length];
                Array.Copy(_histograms, grown, _histograms.Length);
                for (int s = _histograms.Length; s < length; s++) grown[s] = new LongConcurrentHistogram(1, _latencyUsMax, 3);
                var errors = new long[length];
                Array.Copy(_errors, errors, _errors.Length);
                _errors = errors;
                Volatile.Write(ref _histograms, grown);
            }
            return (_histograms[second], second);
        }
    }
}

/// <summary>
/// One second of a run: its index from the start, whether it was warmup (entirely), successes ending in it and their
/// p50/p99/max latency (µs), and failures.
/// </summary>
internal sealed record PerSecondPoint(int Second, bool Warmup, long Ops, long Errors, long P50Us, long P99Us, long MaxUs);
