using HdrHistogram;

namespace Kv.Load;

/// <summary>The figures of one latency histogram (µs): count, p50, p90, p99, p99.9, max and mean; all 0 when it is empty.</summary>
internal sealed record LatencySummary(long Count, long P50Us, long P90Us, long P99Us, long P999Us, long MaxUs, double MeanUs)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0, 0);

    public static LatencySummary From(HistogramBase histogram) => histogram.TotalCount == 0 ? Empty : new(
        histogram.TotalCount,
        histogram.GetValueAtPercentile(50),
        histogram.GetValueAtPercentile(90),
        histogram.GetValueAtPercentile(99),
        histogram.GetValueAtPercentile(99.9),
        histogram.GetMaxValue(),
        histogram.GetMean());
}
