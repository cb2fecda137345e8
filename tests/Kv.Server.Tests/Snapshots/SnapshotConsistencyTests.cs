using System.Globalization;
using Grpc.Core;
using Kv.Backup;
using Kv.Server.Snapshots;
using Kv.Server.Tests.Node;
using Kv.Server.Tests.Txn;
using Kv.Txn.Coordination;
using Xunit.Abstractions;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Snapshots;

/// <summary>
/// Snapshots taken while transfers move money between accounts in four ranges: each one, exported and restored into
/// a fresh cluster, holds the full total and exactly what a stable (closed-timestamp) read of the source cluster at
/// the manifest's timestamp returns. Publishing is slowed (the first range published, the others 50 ms later), so
/// transfers are often half-published when a piece arrives; a broken piece that neither closes the timestamp nor
/// waits for staged transactions is caught by the same check.
/// </summary>
public sealed class SnapshotConsistencyTests(ITestOutputHelper output)
{
    private const int Accounts = 8;
    private const int Opening = 100;

    [Fact(Timeout = 180_000)]
    public async Task SnapshotsUnderTransfers_RestoreIntoFreshClusters_WithTheTotal_AndTheStableReadAtTheirTimestamp()
    {
        await using var cluster = await StartBankAsync();
        var snapshots = await WithTransfersAsync(cluster, async () =>
        {
            var taken = new List<Wire.SnapshotManifest>();
            for (int i = 0; i < 3; i++)
            {
                await Task.Delay(300);
                taken.Add(await SnapshotLifecycleTests.CreateAsync(cluster, 1 + i, $"bank-{i}"));
            }
            return taken;
        });
        foreach (var snapshot in snapshots)
        {
            string dir = TempDirectory();
            try
            {
                await SnapshotExporter.ExportAsync(cluster.Endpoint(1), snapshot.Name, dir);
                var expected = await StableReadAsync(cluster, snapshot.Timestamp);
                Assert.Null(Problem(ExportedData(dir), expected));
                await using var restored = await InProcessCluster.StartAsync(o => o with { RestoreFrom = dir });
                var data = (await restored.ScanAllAsync("", null, limit: 100)).Where(kv => kv.Key.ToStringUtf8() != ProbeKey)
                    .ToDictionary(kv => kv.Key.ToStringUtf8(), kv => (kv.Value.ToStringUtf8(), kv.Version));
                Assert.Null(Problem(data, expected));
                // The restored cluster takes writes above the snapshot.
                var put = await restored.PutAsync("acct-0", "0");
                Assert.True(put.Version.WallNanos > snapshot.Timestamp.WallNanos
                    || (put.Version.WallNanos == snapshot.Timestamp.WallNanos && put.Version.Logical > snapshot.Timestamp.Logical));
                output.WriteLine($"{snapshot.Name}: {data.Count} keys restored, equal to the stable read at {snapshot.Timestamp}");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        output.WriteLine($"pieces that waited for a staged transaction: {Enumerable.Range(1, 3).Sum(n => cluster.Node(n).Snapshots.PiecesRefusedForLocks)}");
    }

    [Fact(Timeout = 180_000)]
    public async Task BrokenPieces_ThatSkipClosingAndTheLockCheck_AreCaught()
    {
        await using var cluster = await StartBankAsync();
        cluster.Node(1).Snapshots.PieceVariant = SnapshotPieceVariant.SkipCloseAndLockCheck;
        string? caught = await WithTransfersAsync(cluster, async () =>
        {
            for (int i = 0; i < 10; i++)
            {
                await Task.Delay(200);
                var snapshot = await SnapshotLifecycleTests.CreateAsync(cluster, 1, $"broken-{i}");
                string dir = TempDirectory();
                try
                {
                    await SnapshotExporter.ExportAsync(cluster.Endpoint(1), snapshot.Name, dir);
                    if (Problem(ExportedData(dir), await StableReadAsync(cluster, snapshot.Timestamp)) is { } problem)
                        return $"snapshot {i}: {problem}";
                }
                finally
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            return null;
        });
        output.WriteLine($"caught: {caught}");
        Assert.NotNull(caught);
    }

    private const string ProbeKey = "\u0001probe";

    private static async Task<InProcessCluster> StartBankAsync()
    {
        var cluster = await TransactionTests.SplitClusterAsync(["acct-2", "acct-4", "acct-6"], failPoints: _ => new SlowPublish());
        for (int i = 0; i < Accounts; i++) await cluster.PutAsync(Account(i), Opening.ToString(CultureInfo.InvariantCulture));
        return cluster;
    }

    /// <summary>Runs <paramref name="body"/> while three clients keep transferring; stops them after it.</summary>
    private async Task<T> WithTransfersAsync<T>(InProcessCluster cluster, Func<Task<T>> body)
    {
        using var stop = new CancellationTokenSource();
        int committed = 0;
        var workers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                int from = random.Next(Accounts), to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
                if (await TransferAsync(cluster, from, to, random.Next(1, 20), 1 + random.Next(3))) Interlocked.Increment(ref committed);
            }
        })).ToList();
        try
        {
            return await body();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"{committed} transfers committed");
            Assert.True(committed > 0, "no transfer committed: the test proved nothing");
        }
    }

    private static async Task<bool> TransferAsync(InProcessCluster cluster, int from, int to, int amount, int node)
    {
        try
        {
            var txn = await TxnDriver.BeginAsync(cluster, node);
            int fromBalance = int.Parse((await txn.GetAsync(Account(from)))!, CultureInfo.InvariantCulture);
            int toBalance = int.Parse((await txn.GetAsync(Account(to)))!, CultureInfo.InvariantCulture);
            if (fromBalance < amount) return false;
            txn.Put(Account(from), (fromBalance - amount).ToString(CultureInfo.InvariantCulture));
            txn.Put(Account(to), (toBalance + amount).ToString(CultureInfo.InvariantCulture));
            return await txn.CommitAsync(Wire.CommitProtocol.Paxos, node) is not null;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    private static string Account(int i) => $"acct-{i}";

    /// <summary>
    /// What is wrong with <paramref name="data"/> as the snapshot whose stable read is <paramref name="expected"/>:
    /// the accounts' total is not the opening total, or a key differs (value or version); null when nothing.
    /// </summary>
    private static string? Problem(Dictionary<string, (string Value, Wire.Timestamp Version)> data, Dictionary<string, (string Value, Wire.Timestamp Version)> expected)
    {
        int total = data.Where(kv => kv.Key.StartsWith("acct-", StringComparison.Ordinal)).Sum(kv => int.Parse(kv.Value.Value, CultureInfo.InvariantCulture));
        if (total != Accounts * Opening) return $"the accounts hold {total}, not {Accounts * Opening}";
        foreach (var key in data.Keys.Union(expected.Keys).Order(StringComparer.Ordinal))
        {
            bool inData = data.TryGetValue(key, out var got), inExpected = expected.TryGetValue(key, out var want);
            if (!inData || !inExpected || got.Value != want.Value || !got.Version.Equals(want.Version))
                return $"key {key}: snapshot has {(inData ? $"{got.Value}@{got.Version}" : "nothing")}, the stable read {(inExpected ? $"{want.Value}@{want.Version}" : "nothing")}";
        }
        return null;
    }

    private static Dictionary<string, (string, Wire.Timestamp)> ExportedData(string dir) =>
        BackupManifest.Read(dir).Ranges.SelectMany(r => BackupDataFile.Read(Path.Combine(dir, r.File)))
            .Where(e => e.Key.ToStringUtf8() != ProbeKey)
            .ToDictionary(e => e.Key.ToStringUtf8(), e => (e.Value.ToStringUtf8(), e.Version));

    /// <summary>Every key of the source cluster read stably (the ranges close the timestamp first) at <paramref name="at"/>.</summary>
    private static async Task<Dictionary<string, (string, Wire.Timestamp)>> StableReadAsync(InProcessCluster cluster, Wire.Timestamp at)
    {
        var found = new Dictionary<string, (string, Wire.Timestamp)>();
        var request = new Wire.TxnScanRequest { ReadTimestamp = at, Stable = true, Limit = 100 };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int node = 1;
        while (true)
        {
            Wire.TxnScanResponse page;
            try
            {
                page = await cluster.Txn(node).ScanAsync(request, deadline: DateTime.UtcNow.AddSeconds(5));
            }
            catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                node = node % 3 + 1;
                await Task.Delay(20);
                continue;
            }
            foreach (var kv in page.Entries)
                if (kv.Key.ToStringUtf8() != ProbeKey) found[kv.Key.ToStringUtf8()] = (kv.Value.ToStringUtf8(), kv.Version);
            if (page.ResumeKey.IsEmpty) return found;
            request = request.Clone();
            request.StartKey = page.ResumeKey;
        }
    }

    private static string TempDirectory() => Path.Combine(Path.GetTempPath(), "kv-snap-" + Guid.NewGuid().ToString("N"));

    /// <summary>Holds every transaction between publishing its first range and the others, so that half-published transfers are common.</summary>
    private sealed class SlowPublish : ITxnFailPoints
    {
        public async ValueTask ReachedAsync(TxnStep step, CancellationToken cancellationToken)
        {
            if (step == TxnStep.DuringPublish) await Task.Delay(50, cancellationToken);
        }
    }
}
