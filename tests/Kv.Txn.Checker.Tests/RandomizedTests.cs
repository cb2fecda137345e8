using Kv.Txn.Checker.Tests.Workload;
using Xunit.Abstractions;

namespace Kv.Txn.Checker.Tests;

/// <summary>
/// The same seeded workload against a correct and a broken in-memory database: the checker must pass the first and
/// catch the second. Every failure message starts with the seed that reproduces it.
/// </summary>
public sealed class RandomizedTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SerialExecution_RandomTransactions_IsValidAndStrictlySerializable(int seed)
    {
        var workload = new ListAppendWorkload { Seed = seed, Transactions = 1_000, Concurrency = 1 };
        var history = workload.Run(new InMemoryListDatabase(validateAtCommit: false));

        AssertValid(seed, ListAppendChecker.Check(history));
        AssertValid(seed, ListAppendChecker.Check(history, new CheckOptions { RealTime = true }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void OptimisticConcurrency_InterleavedTransactions_IsValidAndStrictlySerializable(int seed)
    {
        var workload = new ListAppendWorkload { Seed = seed, Transactions = 1_000, Concurrency = 5 };
        var history = workload.Run(new InMemoryListDatabase(validateAtCommit: true));

        Assert.Contains(history.Transactions, txn => txn.Outcome == TxnOutcome.Aborted);
        AssertValid(seed, ListAppendChecker.Check(history));
        AssertValid(seed, ListAppendChecker.Check(history, new CheckOptions { RealTime = true }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SnapshotWithoutConflictChecks_InterleavedTransactions_IsCaught(int seed)
    {
        var workload = new ListAppendWorkload { Seed = seed, Transactions = 1_000, Concurrency = 5 };
        var history = workload.Run(new InMemoryListDatabase(validateAtCommit: false));

        var result = ListAppendChecker.Check(history);

        output.WriteLine($"seed {seed}: {result.Describe(anomaliesMax: 5)}");
        Assert.False(result.IsValid, $"seed {seed}: lost updates went unnoticed");
        // Blind overwrites lose appends, so some later read disagrees with an earlier one.
        Assert.True(result.Has(AnomalyKind.IncompatibleOrder), $"seed {seed}: {result.Describe()}");
    }

    [Fact]
    public void SnapshotWithoutConflictChecks_FewerClientsMoreKeys_ShowsWriteSkewCycles()
    {
        // Lost appends still make lists diverge, but transactions that read one key and append to another
        // (write skew) also close anti-dependency cycles among reads that do agree.
        const int Seed = 7;
        var workload = new ListAppendWorkload { Seed = Seed, Transactions = 2_000, Concurrency = 3, Keys = 6 };
        var result = ListAppendChecker.Check(workload.Run(new InMemoryListDatabase(validateAtCommit: false)));

        output.WriteLine(result.Describe(anomaliesMax: 5));
        Assert.True(result.Has(AnomalyKind.G2), $"seed {Seed}: {result.Describe()}");
    }

    private void AssertValid(int seed, CheckResult result)
    {
        output.WriteLine($"seed {seed}: {result}");
        Assert.True(result.IsValid, $"seed {seed}: {result.Describe()}");
    }
}
