using HdrHistogram;

namespace Kv.Load.Tests;

public class SummaryTests
{
    [Fact]
    public void Latency_summary_reads_the_histogram_percentiles()
    {
        var h = new LongHistogram(LoadRunner.LatencyUsMax, 3);
        for (long v = 1; v <= 1000; v++) h.RecordValue(v);
        var s = LatencySummary.From(h);
        Assert.Equal(1000, s.Count);
        Assert.Equal(500, s.P50Us);
        Assert.Equal(900, s.P90Us);
        Assert.Equal(990, s.P99Us);
        Assert.Equal(999, s.P999Us);
        Assert.Equal(1000, s.MaxUs);
        Assert.Equal(500.5, s.MeanUs, 1);
    }

    [Fact]
    public void Latency_summary_of_an_empty_histogram_is_zero()
    {
        Assert.Equal(LatencySummary.Empty, LatencySummary.From(new LongHistogram(LoadRunner.LatencyUsMax, 3)));
    }

    [Fact]
    public void Per_second_series_buckets_by_end_time()
    {
        const long hz = 1_000;
        var series = new PerSecondSeries(startTimestamp: 10_000, ticksPerSecond: hz, warmupSeconds: 1, LoadRunner.LatencyUsMax);
        series.Success(10_000 + 500, 100);    // second 0 (warmup)
        series.Success(10_000 + 1_200, 200);  // second 1
        series.Success(10_000 + 1_900, 400);  // second 1
        series.Failure(10_000 + 3_100);       // second 3, growing past an empty second 2

        var points = series.Points();
        Assert.Equal(4, points.Count);
        Assert.True(points[0].Warmup);
        Assert.False(points[1].Warmup);
        Assert.Equal([1L, 2, 0, 0], points.Select(p => p.Ops));
        Assert.Equal([0L, 0, 0, 1], points.Select(p => p.Errors));
        Assert.Equal(200, points[1].P50Us);
        Assert.Equal(400, points[1].P99Us);
    }

    /// <summary>The progress line reads the series while workers record into it (this threw with concurrent histograms).</summary>
    [Fact]
    public async Task Per_second_series_can_be_read_while_workers_record()
    {
        var series = new PerSecondSeries(0, 1_000, 0, LoadRunner.LatencyUsMax);
        const int perWriter = 50_000;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < perWriter; i++) series.Success(i % 3_000, 1 + (i % 5_000));
        })).ToArray();
        while (!writers.All(t => t.IsCompleted)) Assert.True(series.Points().Sum(p => p.Ops) <= 4 * perWriter);
        await Task.WhenAll(writers);
        Assert.Equal(4 * perWriter, series.Points().Sum(p => p.Ops));
    }

    [Fact]
    public void Proc_stat_cpu_counts_fields_after_the_command_name()
    {
        // A command name with spaces and parentheses; utime 250 and stime 50 ticks (fields 14 and 15) = 3 s.
        const string stat = "4242 (dotnet (x) y) S 1 4242 4242 0 -1 4194560 9000 0 3 0 250 50 0 0 20 0 30 0 123 456 789";
        Assert.Equal(3.0, ProcessCpu.ParseStat(stat), 6);
        Assert.Throws<FormatException>(() => ProcessCpu.ParseStat("garbage"));
    }

    [Fact]
    public void Proc_stat_of_this_process_is_readable()
    {
        var seconds = ProcessCpu.Sample([Environment.ProcessId, int.MaxValue]);
        Assert.NotNull(seconds[0]);
        Assert.True(seconds[0] > 0);
        Assert.Null(seconds[1]);
    }
}
