using System.Globalization;
using Grpc.Core;
using Kv.Server.Tests.Node;
using Kv.Txn.Checker;
using Xunit.Abstractions;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// The list-append workload (as in Jepsen's Elle) against a 3-node cluster with keys in three ranges: concurrent
/// transactions each read a few lists and append a unique element to them; the recorded history is checked for
/// every anomaly up to G2. The same workload with the read validation switched off (commits that omit their reads)
/// must be caught by the checker: the check can fail.
/// </summary>
public sealed class ListAppendWorkloadTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["a-list", "b-list", "n-list", "o-list", "x-list"];

    [Fact(Timeout = 120_000)]
    public async Task ConcurrentListAppends_BothProtocols_AreSerializable()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m", "w"]);
        var history = await RunAsync(cluster, TimeSpan.FromSeconds(8), brokenIsolation: false);
        var result = ListAppendChecker.Check(history);
        output.WriteLine($"{history.Count} transactions: {Summary(history)}");
        Assert.True(result.IsValid, result.Describe());
        Assert.True(history.Transactions.Count(t => t.Outcome == TxnOutcome.Committed) >= 20, "too few commits to mean anything");
    }

    [Fact(Timeout = 120_000)]
    public async Task WithReadValidationSwitchedOff_TheCheckerFindsAnomalies()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m", "w"]);
        var history = await RunAsync(cluster, TimeSpan.FromSeconds(8), brokenIsolation: true);
        var result = ListAppendChecker.Check(history);
        output.WriteLine(result.Describe(5));
        Assert.False(result.IsValid, "lost updates went unnoticed");
    }

    private static string Summary(History history) =>
        string.Join(", ", history.Transactions.GroupBy(t => t.Outcome).Select(g => $"{g.Key} {g.Count()}"));

    private static async Task<History> RunAsync(InProcessCluster cluster, TimeSpan duration, bool brokenIsolation)
    {
        var recorder = new HistoryRecorder();
        long nextElement = 0;
        var until = DateTime.UtcNow + duration;
        var workers = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (DateTime.UtcNow < until)
            {
                var keys = Keys.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToList();
                var protocol = random.Next(2) == 0 ? Wire.CommitProtocol.Paxos : Wire.CommitProtocol.TwoPhase;
                await RunOneAsync(cluster, recorder, keys, () => Interlocked.Increment(ref nextElement), protocol, 1 + worker % 3, brokenIsolation);
            }
        })).ToList();
        await Task.WhenAll(workers);
        // A last read of every list fixes the version order of every key.
        await RunOneAsync(cluster, recorder, Keys.ToList(), () => 0, Wire.CommitProtocol.Paxos, 1, brokenIsolation: false, readOnly: true);
        return recorder.ToHistory();
    }

    private static async Task RunOneAsync(InProcessCluster cluster, HistoryRecorder recorder, List<string> keys, Func<long> element,
        Wire.CommitProtocol protocol, int node, bool brokenIsolation, bool readOnly = false)
    {
        var record = recorder.Begin();
        try
        {
            var txn = await TxnDriver.BeginAsync(cluster, node, brokenIsolation);
            foreach (var key in keys)
            {
                var list = Parse(await txn.GetAsync(key));
                record.Read(key, list);
                if (readOnly) continue;
                long e = element();
                txn.Put(key, string.Join(',', list.Append(e)));
                record.Append(key, e);
            }
            var committed = await txn.CommitAsync(protocol, node);
            record.Complete(committed is null ? TxnOutcome.Aborted : TxnOutcome.Committed);
        }
        catch (RpcException)
        {
            // Timed out or unavailable somewhere: it may or may not have committed.
            record.Complete(TxnOutcome.Unknown);
        }
    }

    private static List<long> Parse(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToList();
}
