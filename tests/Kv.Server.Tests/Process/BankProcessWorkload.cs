using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Kv.Client;

namespace Kv.Server.Tests.Process;

/// <summary>How a bank run goes.</summary>
internal sealed record BankSettings
{
    public int Accounts { get; init; } = 40;
    public long Opening { get; init; } = 1_000;
    public int Workers { get; init; } = 6;
    /// <summary>How long transfers start; the run goes on past it until <see cref="KillsMin"/> kills happened.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>The commit protocol of every transfer; null: each transfer picks one at random.</summary>
    public KvCommitProtocol? Protocol { get; init; } = KvCommitProtocol.Paxos;
    /// <summary>Kills (0: none). Each is a SIGKILL, a pause, a restart on the same data.</summary>
    public int KillsMin { get; init; } = 2;
    /// <summary>
    /// Deliberately broken: the credit is a plain put made outside the transaction, before its commit (which the put
    /// itself makes conflict, so the body runs again and credits again). The checks must catch it.
    /// </summary>
    public bool CreditOutsideTransaction { get; init; }
    public int Seed { get; init; } = 1;
}

/// <summary>What a bank run did and found.</summary>
internal sealed record BankReport(
    IReadOnlyList<BankTransfer> Transfers,
    IReadOnlyList<string> Kills,
    int Snapshots,
    int SnapshotFailures,
    IReadOnlyList<string> SnapshotViolations,
    BankState Final,
    IReadOnlyList<string> FinalViolations)
{
    public int Count(TransferOutcome outcome) => Transfers.Count(t => t.Outcome == outcome);

    public string Summary =>
        $"{Transfers.Count} transfers ({string.Join(", ", Enum.GetValues<TransferOutcome>().Select(o => $"{o} {Count(o)}"))}); " +
        $"{Kills.Count} kills; {Snapshots} snapshot reads checked ({SnapshotFailures} failed to read, {SnapshotViolations.Count} wrong); " +
        $"final: {Final.Markers.Count} markers, {FinalViolations.Count} violations";
}

/// <summary>
/// The bank workload on a <see cref="ClusterProcesses"/> through the SDK (<see cref="KvClient"/>): <see cref="BankSettings.Workers"/>
/// clients run transfers (<see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, KvTransactionOptions?, CancellationToken)"/>:
/// read both balances, write both and the transfer's marker) while a reader takes lock-free snapshot reads of every
/// account (a read-only transaction) and checks the total, and a chaos task SIGKILLs nodes at random moments,
/// alternately the node the SDK sends commits to (its cached leader) and the leader of one of the accounts' ranges,
/// and restarts each after a short pause. At the end, with every node back, one snapshot of all accounts and markers
/// is checked by <see cref="BankLedger.Verify"/>.
/// </summary>
internal sealed class BankProcessWorkload(ClusterProcesses cluster, BankSettings settings, IReadOnlyList<string> rangeStarts, Action<string> log)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    /// <summary>How long after the last kill transfers in flight may take before they are cancelled (outcome then unknown).</summary>
    private static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(20);
    /// <summary>The chaos may run this much past the duration to reach its kill count, no longer.</summary>
    private static readonly TimeSpan ChaosOverrun = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FinalReadWithin = TimeSpan.FromSeconds(45);

    private readonly ConcurrentQueue<BankTransfer> _transfers = new();
    private readonly ConcurrentQueue<string> _snapshotViolations = new();
    private readonly List<string> _kills = [];
    private int _snapshots, _snapshotFailures, _commitsInFlight;

    /// <summary>
    /// A client of every node with bounded waits: 3 s per call, 12 s per operation and its retries (a 2PC key may
    /// wait for a restarting coordinator), and a short circuit-breaker pause so a restarted node is used again soon.
    /// </summary>
    public KvClient NewClient() => new(ClusterProcesses.NodeIds.Select(cluster.Endpoint), new KvClientOptions
    {
        PerCallTimeout = TimeSpan.FromSeconds(3),
        OverallDeadline = TimeSpan.FromSeconds(12),
        CircuitBreakerBreakDuration = TimeSpan.FromSeconds(1),
    });

    /// <summary>Writes every account's opening balance and checks that a snapshot read sees them all.</summary>
    public async Task SeedAsync(KvClient client)
    {
        await Task.WhenAll(Enumerable.Range(0, settings.Accounts)
            .Select(a => client.PutAsync(BankLedger.AccountKey(a), settings.Opening.ToString(CultureInfo.InvariantCulture))));
        var seeded = await ReadFinalAsync(client);
        if (BankLedger.CheckTotal(seeded.Balances, settings.Accounts, settings.Opening) is { } wrong)
            throw new InvalidOperationException($"the seeded accounts are wrong: {wrong}");
    }

    /// <summary>Runs the transfers, the reader and the chaos, then reads and verifies the final state.</summary>
    public async Task<BankReport> RunAsync()
    {
        await using var workersClient = NewClient();
        await using var readerClient = NewClient();
        await SeedAsync(workersClient);

        using var stopStarting = new CancellationTokenSource();
        using var abandon = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, settings.Workers)
            .Select(w => Task.Run(() => WorkerAsync(workersClient, w, stopStarting.Token, abandon.Token))).ToList();
        var reader = Task.Run(() => ReaderAsync(readerClient, stopStarting.Token));
        var chaos = settings.KillsMin > 0 ? ChaosAsync(workersClient, clock) : Task.Delay(settings.Duration);
        // Whether the chaos ends or fails, the clients stop before they are disposed.
        await chaos.ContinueWith(_ => { }, TaskScheduler.Default);
        await stopStarting.CancelAsync();
        abandon.CancelAfter(InFlightGrace);
        await Task.WhenAll(workers.Append(reader)).WaitAsync(InFlightGrace + TimeSpan.FromSeconds(30));
        await chaos;
        log($"transfers stopped after {clock.Elapsed.TotalSeconds:F1} s");

        var final = await ReadFinalAsync(readerClient);
        var transfers = _transfers.ToList();
        var violations = BankLedger.Verify(final, transfers, settings.Accounts, settings.Opening);
        return new BankReport(transfers, _kills, _snapshots, _snapshotFailures, _snapshotViolations.ToList(), final, violations);
    }

    private async Task WorkerAsync(KvClient client, int worker, CancellationToken stopStarting, CancellationToken abandon)
    {
        var random = new Random(settings.Seed * 1_000 + worker);
        for (int n = 0; !stopStarting.IsCancellationRequested; n++)
        {
            int from = random.Next(settings.Accounts), to = (from + 1 + random.Next(settings.Accounts - 1)) % settings.Accounts;
            long amount = random.Next(1, 50);
            var protocol = settings.Protocol ?? (random.Next(2) == 0 ? KvCommitProtocol.Paxos : KvCommitProtocol.TwoPhase);
            string id = string.Create(CultureInfo.InvariantCulture, $"{worker}-{n}");
            _transfers.Enqueue(new BankTransfer(id, from, to, amount, await TransferAsync(client, id, from, to, amount, protocol, abandon)));
        }
    }

    /// <summary>One transfer, retried by the SDK on conflicts; what the client learnt of it.</summary>
    private async Task<TransferOutcome> TransferAsync(KvClient client, string id, int from, int to, long amount, KvCommitProtocol protocol,
        CancellationToken abandon)
    {
        bool committing = false, skipped = false;
        var options = new KvTransactionOptions
        {
            Protocol = protocol,
            AttemptTimeout = TimeSpan.FromSeconds(15),
            // The broken variant's own put conflicts with its read; with locking reads it would wait for its own lock.
            LockReadsAfterConflicts = settings.CreditOutsideTransaction ? null : new KvTransactionOptions().LockReadsAfterConflicts,
        };
        try
        {
            await client.RunTransactionAsync(async tx =>
            {
                committing = skipped = false;
                long fromBalance = await BalanceAsync(tx, from, abandon), toBalance = await BalanceAsync(tx, to, abandon);
                if (fromBalance < amount)
                {
                    skipped = true;
                    return;
                }
                string credit = (toBalance + amount).ToString(CultureInfo.InvariantCulture);
                await tx.PutAsync(BankLedger.AccountKey(from), (fromBalance - amount).ToString(CultureInfo.InvariantCulture), abandon);
                if (settings.CreditOutsideTransaction) await client.PutAsync(BankLedger.AccountKey(to), credit, abandon);
                else await tx.PutAsync(BankLedger.AccountKey(to), credit, abandon);
                await tx.PutAsync(BankLedger.MarkerKey(id), BankLedger.MarkerValue(from, to, amount), abandon);
                committing = true;
                Interlocked.Increment(ref _commitsInFlight);
                try
                {
                    await tx.CommitAsync(abandon);
                }
                finally
                {
                    Interlocked.Decrement(ref _commitsInFlight);
                }
            }, options, abandon);
            return skipped ? TransferOutcome.Skipped : TransferOutcome.Committed;
        }
        catch (KvTransactionConflictException)
        {
            return TransferOutcome.Aborted;
        }
        catch (KvTransactionOutcomeUnknownException)
        {
            return TransferOutcome.Unknown;
        }
        catch (Exception e) when (e is KvException or RpcException or OperationCanceledException)
        {
            // The SDK's word: an unavailable or refused commit was not sent. Anything else during the commit may have applied.
            return committing && e is not (KvUnavailableException or KvInvalidArgumentException) ? TransferOutcome.Unknown : TransferOutcome.NotSent;
        }
    }

    private static async Task<long> BalanceAsync(KvTransaction tx, int account, CancellationToken cancellationToken)
    {
        string key = BankLedger.AccountKey(account);
        string value = await tx.GetStringAsync(key, cancellationToken) ?? throw new InvalidOperationException($"{key} is missing");
        return long.Parse(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Snapshot reads of every account, one after another, each checked for the opening total.</summary>
    private async Task ReaderAsync(KvClient client, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (at, state) = await ReadSnapshotAsync(client, withMarkers: false);
                Interlocked.Increment(ref _snapshots);
                if (BankLedger.CheckTotal(state.Balances, settings.Accounts, settings.Opening) is { } wrong)
                    _snapshotViolations.Enqueue($"snapshot at {at}: {wrong}");
            }
            catch (Exception e) when (e is KvException or RpcException)
            {
                // A node died under the read; nothing was read, so nothing is checked.
                Interlocked.Increment(ref _snapshotFailures);
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    /// <summary>Every account (and, when asked, every marker) in one lock-free read-only transaction: one timestamp.</summary>
    private async Task<(KvVersion At, BankState State)> ReadSnapshotAsync(KvClient client, bool withMarkers)
    {
        await using var tx = await client.BeginTransactionAsync(new KvTransactionOptions { ReadOnly = true, AttemptTimeout = TimeSpan.FromSeconds(15) });
        var balances = new Dictionary<int, long>();
        await foreach (var entry in tx.ScanPrefixAsync(BankLedger.AccountPrefix))
        {
            int account = BankLedger.AccountOf(entry.KeyString) ?? throw new InvalidOperationException($"'{entry.KeyString}' is not an account key");
            balances[account] = long.Parse(entry.ValueString, CultureInfo.InvariantCulture);
        }
        var markers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (withMarkers)
        {
            await foreach (var entry in tx.ScanPrefixAsync(BankLedger.MarkerPrefix))
                markers[entry.KeyString[BankLedger.MarkerPrefix.Length..]] = entry.ValueString;
        }
        await tx.CommitAsync();
        return (tx.ReadTimestamp, new BankState(balances, markers));
    }

    /// <summary>The final snapshot of accounts and markers, retried until the cluster serves it.</summary>
    private async Task<BankState> ReadFinalAsync(KvClient client)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return (await ReadSnapshotAsync(client, withMarkers: true)).State;
            }
            catch (Exception e) when (e is KvException or RpcException && deadline.Elapsed < FinalReadWithin)
            {
                log($"final read failed, again: {e.Message}");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// Kills at random moments until the duration passed and at least <see cref="BankSettings.KillsMin"/> happened:
    /// even kills take the SDK's cached leader (where it sends commits: the coordinator), odd ones the leader of a
    /// random accounts' range. Each victim restarts after a pause; one node at most is down at a time.
    /// </summary>
    private async Task ChaosAsync(KvClient workersClient, Stopwatch clock)
    {
        var random = new Random(settings.Seed);
        while ((clock.Elapsed < settings.Duration || _kills.Count < settings.KillsMin) && clock.Elapsed < settings.Duration + ChaosOverrun)
        {
            await Task.Delay(random.Next(500, 2_500));
            string accountsRange = rangeStarts[random.Next(rangeStarts.Count)];
            int victim;
            string role;
            if (_kills.Count % 2 == 0 && cluster.NodeAt(workersClient.CachedLeaderEndpoint) is { } coordinator)
            {
                (victim, role) = (coordinator, "the SDK's cached leader (commit coordinator)");
            }
            else
            {
                victim = (await cluster.RangeLeadersAsync(rangeStarts, TimeSpan.FromSeconds(15)))[accountsRange];
                role = $"leader of the range at '{accountsRange}'";
            }
            int inFlight = Volatile.Read(ref _commitsInFlight);
            var at = clock.Elapsed;
            await cluster.KillAsync(victim);
            var pause = TimeSpan.FromMilliseconds(random.Next(300, 1_500));
            await Task.Delay(pause);
            var down = Stopwatch.StartNew();
            await cluster.RestartAsync(victim, StartTimeout);
            string kill = $"{at.TotalSeconds:F1} s: SIGKILL node {victim}, {role}, {inFlight} commits in flight; " +
                          $"restarted after {pause.TotalMilliseconds:F0} ms, serving {down.ElapsedMilliseconds} ms later";
            _kills.Add(kill);
            log(kill);
        }
    }
}
