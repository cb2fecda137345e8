using System.Diagnostics;
using Kv.Server.Peers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kv.Server.Tests.Peers;

/// <summary>The restore fetch retry: retries every failure with growing delays until success, and stops when cancelled.</summary>
public sealed class RangeDataFetchRetryTests
{
    [Fact(Timeout = 30_000)]
    public async Task Retries_UntilAPassSucceeds_WithLinearlyGrowingDelays()
    {
        var attempts = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        await RangeDataFetchRetry.Create(NullLogger.Instance, 7).ExecuteAsync(_ =>
        {
            attempts.Add(clock.Elapsed);
            if (attempts.Count < 4) throw new InvalidOperationException("no replica could serve");
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        Assert.Equal(4, attempts.Count);
        // The n-th delay is n × 100 ms with ±25 % jitter: never shorter than 75 % of that.
        for (int n = 1; n < attempts.Count; n++)
        {
            var gap = attempts[n] - attempts[n - 1];
            Assert.True(gap >= RangeDataFetchRetry.DelayMin * n * 0.75, $"delay {n} was {gap.TotalMilliseconds} ms");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Stops_WhenTheRestoreIsCancelled()
    {
        using var cancel = new CancellationTokenSource();
        int attempts = 0;
        var run = RangeDataFetchRetry.Create(NullLogger.Instance, 7).ExecuteAsync(_ =>
        {
            if (++attempts == 2) cancel.Cancel();
            throw new InvalidOperationException("peer down");
        }, cancel.Token).AsTask();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(2, attempts);
    }
}
