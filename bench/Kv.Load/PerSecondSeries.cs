using HdrHistogram;

namespace Kv.Load;

/// <summary>
/// Operations by the second of the run (from its start, warmup included) in which they <em>ended</em>: successes with
/// their latency histogram, and failures. Shared by the workers, read at the end into <see cref="PerSecondPoint"/>s
/// and, while the run lasts, for the progress line. One lock guards it all: HdrHistogram's percentile walk throws
/// if a value is recorded meanwhile, and a lock held for one record is cheap next to a network round trip.
/// </summary>
internal sealed class PerSecondSeries
{
    private readonly long _startTimestamp;
    private readonly long _ticksPerSecond;
    private readonly long _latencyUsMax;
    private readonly double _warmupSeconds;
    private readonly Lock _lock = new();
    private readonly List<LongHistogram> _histograms = [];
    private readonly List<long> _errors = [];

    public PerSecondSeries(long startTimestamp, long ticksPerSecond, double warmupSeconds, long latencyUsMax)
    {
        _startTimestamp = startTimestamp;
        _ticksPerSecond = ticksPerSecond;
        _warmupSeconds = warmupSeconds;
        _latencyUsMax = latencyUsMax;
    }

    /// <summary>A success that ended at <paramref name="endTimestamp"/> after <paramref name="latencyUs"/>.</summary>
    public void Success(long endTimestamp, long latencyUs)
    {
        int second = SecondOf(endTimestamp);
        lock (_lock)
        {
            Grow(second);
            _histograms[second].RecordValue(Math.Clamp(latencyUs, 1, _latencyUsMax));
        }
    }

    /// <summary>A failure that ended at <paramref name="endTimestamp"/>.</summary>
    public void Failure(long endTimestamp)
    {
        int second = SecondOf(endTimestamp);
        lock (_lock)
        {
            Grow(second);
            _errors[second]++;
        }
    }

    /// <summary>The seconds so far, in order (the last one may still be filling).</summary>
    public IReadOnlyList<PerSecondPoint> Points()
    {
        lock (_lock)
        {
            var points = new PerSecondPoint[_histograms.Count];
            for (int s = 0; s < points.Length; s++)
            {
                var summary = LatencySummary.From(_histograms[s]);
                points[s] = new PerSecondPoint(s, s + 1 <= _warmupSeconds, summary.Count, _errors[s], summary.P50Us, summary.P99Us, summary.MaxUs);
            }
            return points;
        }
    }

    private int SecondOf(long timestamp) => (int)Math.Max(0, (timestamp - _startTimestamp) / _ticksPerSecond);

    private void Grow(int second)
    {
        while (_histograms.Count <= second)
        {
            _histograms.Add(new LongHistogram(_latencyUsMax, 3));
            _errors.Add(0);
        }
    }
}

/// <summary>
/// One second of a run: its index from the start, whether it was warmup (entirely), successes ending in it and their
/// p50/p99/max latency (µs), and failures.
/// </summary>
internal sealed record PerSecondPoint(int Second, bool Warmup, long Ops, long Errors, long P50Us, long P99Us, long MaxUs);
