using System.Globalization;
using Grpc.Core;
using Kv.Server.Tests.Node;
using Xunit.Abstractions;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// The bank workload: accounts in four ranges, concurrent transfers with both protocols while nodes crash and
/// restart (killing coordinators and leaders alike). Every lock-free snapshot read of all accounts (a read-only
/// transaction at a closed timestamp, which never aborts) and every committed serializable read sees the same total; at
/// the end each account's balance is exactly its opening balance plus the transfers whose marker exists (a
/// transfer writes its marker in the same transaction), so no transfer applied twice or half.
/// </summary>
public sealed class BankWorkloadTests(ITestOutputHelper output)
{
    private const int Accounts = 8;
    private const int Opening = 100;

    [Fact(Timeout = 180_000)]
    public async Task Transfers_WithNodeCrashes_KeepTheTotal_AndApplyEachTransferOnceOrNotAtAll()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["acct-2", "acct-4", "acct-6"]);
        for (int i = 0; i < Accounts; i++) await cluster.PutAsync(Account(i), Opening.ToString(CultureInfo.InvariantCulture));

        var transfers = new System.Collections.Concurrent.ConcurrentBag<(string Id, int From, int To, int Amount, string Outcome)>();
        int audits = 0, snapshots = 0;
        var until = DateTime.UtcNow.AddSeconds(12);
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            int n = 0;
            while (DateTime.UtcNow < until)
            {
                int from = random.Next(Accounts), to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
                var protocol = random.Next(2) == 0 ? Wire.CommitProtocol.Paxos : Wire.CommitProtocol.TwoPhase;
                string id = $"{w}-{n++}";
                int amount = random.Next(1, 20);
                transfers.Add((id, from, to, amount, await TransferAsync(cluster, id, from, to, amount, protocol, 1 + random.Next(3))));
                // Clients think between transfers, which leaves the auditor, who reads every account, a chance to commit.
                await Task.Delay(random.Next(0, 25));
            }
        })).ToList();
        var auditor = Task.Run(async () =>
        {
            while (DateTime.UtcNow < until)
            {
                if (await AuditAsync(cluster) is { } total)
                {
                    Assert.Equal(Accounts * Opening, total);
                    audits++;
                }
            }
        });
        var snapshotReader = Task.Run(async () =>
        {
            while (DateTime.UtcNow < until)
            {
                if (await SnapshotTotalAsync(cluster) is { } total)
                {
                    Assert.Equal(Accounts * Opening, total);
                    snapshots++;
                }
            }
        });
        var chaos = Task.Run(async () =>
        {
            var random = new Random(99);
            while (DateTime.UtcNow < until.AddSeconds(-3))
            {
                await Task.Delay(1_500);
                int victim = 1 + random.Next(3);
                await cluster.StopNodeAsync(victim, crash: true);
                await Task.Delay(700);
                await cluster.StartNodeAsync(victim);
            }
        });
        await Task.WhenAll(workers.Append(auditor).Append(snapshotReader).Append(chaos));
        output.WriteLine($"{transfers.Count} transfers: " + string.Join(", ", transfers.GroupBy(t => t.Outcome).Select(g => $"{g.Key} {g.Count()}"))
            + $"; {audits} committed audits and {snapshots} snapshot reads saw the full total");
        Assert.True(snapshots >= 10, "too few snapshot reads completed");
        Assert.True(transfers.Count(t => t.Outcome == "committed") >= 10, "too few transfers committed to mean anything");
        // Committed serializable audits, which read every account, rarely win against four writers; the lock-free
        // snapshot reads are the audit that must happen (checked above); each committed audit is checked too.
        Assert.Equal(Accounts * Opening, (await AuditAsync(cluster, untilCommitted: true))!.Value);

        // Each account: opening balance plus the transfers whose marker exists, and markers agree with known outcomes.
        var expected = Enumerable.Repeat(Opening, Accounts).ToArray();
        foreach (var t in transfers)
        {
            bool applied = (await cluster.GetAsync("xfer/" + t.Id)).Found;
            if (t.Outcome == "committed") Assert.True(applied, $"transfer {t.Id} committed but its marker is missing");
            if (t.Outcome == "aborted") Assert.False(applied, $"transfer {t.Id} aborted but its marker exists");
            if (!applied) continue;
            var marker = (await cluster.GetAsync("xfer/" + t.Id)).Value.ToStringUtf8().Split(',').Select(int.Parse).ToArray();
            expected[marker[0]] -= marker[2];
            expected[marker[1]] += marker[2];
        }
        for (int i = 0; i < Accounts; i++)
            Assert.Equal(expected[i], int.Parse((await cluster.GetAsync(Account(i))).Value.ToStringUtf8(), CultureInfo.InvariantCulture));
    }

    private static string Account(int i) => $"acct-{i}";

    private static async Task<string> TransferAsync(InProcessCluster cluster, string id, int from, int to, int amount, Wire.CommitProtocol protocol, int node)
    {
        try
        {
            var txn = await TxnDriver.BeginAsync(cluster, node);
            int fromBalance = int.Parse((await txn.GetAsync(Account(from)))!, CultureInfo.InvariantCulture);
            int toBalance = int.Parse((await txn.GetAsync(Account(to)))!, CultureInfo.InvariantCulture);
            if (fromBalance < amount) return "skipped";
            txn.Put(Account(from), (fromBalance - amount).ToString(CultureInfo.InvariantCulture));
            txn.Put(Account(to), (toBalance + amount).ToString(CultureInfo.InvariantCulture));
            txn.Put("xfer/" + id, $"{from},{to},{amount}");
            return await txn.CommitAsync(protocol, node) is null ? "aborted" : "committed";
        }
        catch (RpcException)
        {
            return "unknown";
        }
    }

    /// <summary>Reads every account in a lock-free read-only transaction (stable reads at its read timestamp); null if a node failed it.</summary>
    private static async Task<int?> SnapshotTotalAsync(InProcessCluster cluster)
    {
        try
        {
            int node = Enumerable.Range(1, 3).First(cluster.IsRunning);
            var txn = await TxnDriver.BeginAsync(cluster, node, stable: true);
            int total = 0;
            for (int i = 0; i < Accounts; i++) total += int.Parse((await txn.GetAsync(Account(i)))!, CultureInfo.InvariantCulture);
            return total;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Reads every account in one transaction; its total if the transaction committed (its reads were all current at once).</summary>
    private static async Task<int?> AuditAsync(InProcessCluster cluster, bool untilCommitted = false)
    {
        while (true)
        {
            try
            {
                int node = Enumerable.Range(1, 3).First(cluster.IsRunning);
                var txn = await TxnDriver.BeginAsync(cluster, node);
                int total = 0;
                for (int i = 0; i < Accounts; i++) total += int.Parse((await txn.GetAsync(Account(i)))!, CultureInfo.InvariantCulture);
                if (await txn.CommitAsync(Wire.CommitProtocol.Paxos, node) is not null) return total;
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException)
            {
            }
            if (!untilCommitted) return null;
            await Task.Delay(50);
        }
    }
}
