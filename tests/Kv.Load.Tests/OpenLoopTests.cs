using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kv.Load.Tests;

public class OpenLoopTests
{
    [Fact]
    public void The_schedule_spaces_operations_at_the_rate()
    {
        var schedule = new OpenLoopSchedule(ratePerSecond: 250, startTimestamp: 1_000, ticksPerSecond: 1_000_000);
        Assert.Equal(1_000, schedule.IntendedStart(0));
        Assert.Equal(5_000, schedule.IntendedStart(1));
        Assert.Equal(1_000 + 4_000_000, schedule.IntendedStart(1_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(0, 0, 1));
    }

    [Fact]
    public void Concurrent_claims_take_every_operation_once_in_order_of_number()
    {
        var schedule = new OpenLoopSchedule(1_000, 0, 1_000_000);
        var claimed = new ConcurrentBag<(long Number, long Due)>();
        Parallel.For(0, 10_000, _ => claimed.Add(schedule.Claim()));
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => (long)i), claimed.Select(c => c.Number).Order());
        Assert.All(claimed, c => Assert.Equal(c.Number * 1_000, c.Due));
    }

    /// <summary>
    /// A fake server that answers in ~1 ms but stalls every call for 0.6 s in the middle of the measured window: a
    /// closed loop sees one slow call among hundreds (its p90 stays small); an open loop at 200/s sees the ~120
    /// calls that were due during the stall wait for it, and its p90 shows it.
    /// </summary>
    [Fact]
    public async Task A_stalled_server_inflates_open_loop_latency_but_not_closed_loop()
    {
        var closed = await RunAgainstStallingServerAsync(rate: null, LatencyOrigin.Intended);
        var open = await RunAgainstStallingServerAsync(rate: 200, LatencyOrigin.Intended);

        Assert.True(closed.MaxUs >= 400_000, $"the closed loop did meet the stall (max {closed.MaxUs} µs)");
        Assert.True(closed.P90Us < 60_000, $"closed loop p90 {closed.P90Us} µs");
        Assert.True(open.P90Us > 150_000, $"open loop p90 {open.P90Us} µs");
        // The open loop ran to its timetable: ~1.5 s × 200/s measured, whatever the stall.
        Assert.InRange(open.Ops, 250, 310);
    }

    /// <summary>The broken variant: an open loop that measures from when a worker got to the operation hides the stall.</summary>
    [Fact]
    public async Task Measuring_from_the_actual_start_would_hide_the_stall()
    {
        var hidden = await RunAgainstStallingServerAsync(rate: 200, LatencyOrigin.ActualStart);
        Assert.True(hidden.P90Us < 60_000, $"p90 {hidden.P90Us} µs");
    }

    [Fact]
    public async Task A_closed_loop_with_an_operation_count_measures_exactly_that_many()
    {
        var options = Options(rate: null) with { Operations = 300, Clients = 4, Seconds = 10 };
        var run = await LoadRunner.RunAsync(options, 1, async (_, ct) => { await Task.Delay(1, ct); return default; }, null, CancellationToken.None);
        var result = LoadResult.Merge(options, run);
        Assert.Equal(300, result.Ops);
        Assert.True(result.Seconds < 5, $"window {result.Seconds} s");
        // The series counts warmup operations too.
        Assert.True(run.Series.Points().Sum(p => p.Ops) >= result.Ops);
    }

    private static async Task<LoadResult> RunAgainstStallingServerAsync(double? rate, LatencyOrigin origin)
    {
        var options = Options(rate);
        long runStart = Stopwatch.GetTimestamp();
        long stallFrom = runStart + (long)((options.WarmupSeconds + 0.4) * Stopwatch.Frequency);
        long stallUntil = stallFrom + (long)(0.6 * Stopwatch.Frequency);
        async Task<OperationOutcome> Call(Random random, CancellationToken ct)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= stallFrom && now < stallUntil)
                await Task.Delay(TimeSpan.FromSeconds((stallUntil - now) / (double)Stopwatch.Frequency), ct);
            else
                await Task.Delay(1, ct);
            return default;
        }
        var run = await LoadRunner.RunAsync(options, 1, Call, null, CancellationToken.None, origin);
        return LoadResult.Merge(options, run);
    }

    private static LoadOptions Options(double? rate) => new()
    {
        Target = LoadTargetKind.Kv,
        Endpoints = ["http://127.0.0.1:1"],
        Operation = LoadOperation.Put,
        Clients = rate is null ? 1 : 4,
        Seconds = 1.5,
        WarmupSeconds = 0.2,
        RatePerSecond = rate,
    };
}
