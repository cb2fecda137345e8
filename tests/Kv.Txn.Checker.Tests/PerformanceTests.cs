using System.Diagnostics;
using Kv.Txn.Checker.Tests.Workload;
using Xunit.Abstractions;

namespace Kv.Txn.Checker.Tests;

/// <summary>
/// Sanity of scale: a 20,000-transaction history over 10 keys checks to the end. Timings are printed, not asserted,
/// since shared CI machines make wall-clock assertions flaky.
/// </summary>
public sealed class PerformanceTests(ITestOutputHelper output)
{
    [Fact]
    public void Serial_TwentyThousandTransactionsOverTenKeys_ChecksValid()
    {
        var history = SharedBufferHistory.Serial(seed: 42, transactions: 20_000, keys: 10, opsPerTxnMax: 4);

        var stopwatch = Stopwatch.StartNew();
        var result = ListAppendChecker.Check(history);
        var serializableElapsed = stopwatch.Elapsed;
        stopwatch.Restart();
        var strict = ListAppendChecker.Check(history, new CheckOptions { RealTime = true });
        var strictElapsed = stopwatch.Elapsed;

        output.WriteLine($"serializable {serializableElapsed.TotalMilliseconds:F0} ms, real-time {strictElapsed.TotalMilliseconds:F0} ms");
        Assert.True(result.IsValid, result.Describe());
        Assert.True(strict.IsValid, strict.Describe());
        Assert.Equal(20_000, result.TransactionsChecked);
    }
}
