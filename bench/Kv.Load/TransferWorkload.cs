using System.Buffers.Text;
using System.Diagnostics;
using Kv.Client;

namespace Kv.Load;

/// <summary>
/// What one operation reports besides its latency: its commit's latency (0: none), how often it ran again, and which
/// kind of operation it was (index into the run's variants; 0 when there is one kind).
/// </summary>
internal readonly record struct OperationOutcome(long CommitUs, int Retries, int Variant = 0);

/// <summary>
/// <c>--op transfer</c>: one transaction per operation through <see cref="KvClient.RunTransactionAsync(Func{KvTransaction, Task}, KvTransactionOptions?, CancellationToken)"/>.
/// It picks accounts in <see cref="LoadOptions.RangesPerTxn"/> distinct ranges (1: two accounts of one range), reads
/// each, and moves money: with 1 or 2 ranges from the first account to the second; with 4, from the first account
/// to each of the other three (one debit, three credits). The first account is the transaction's home key (its first
/// write), so with 2 or 4 ranges the home range is one of the ranges, chosen uniformly. The commit is timed alone too:
/// it is where the protocols differ. A Paxos commit over two or more ranges is staged by the SDK itself at the ranges'
/// leaders (<c>--client-staging on</c>, the default): no node coordinates it, and it is counted in
/// <see cref="ClientStagedCommits"/>. Every other commit goes to one node (the leader the SDK learned last, see
/// <see cref="CommitsByNode"/>), which coordinates it. <c>--op compare</c> mixes single-range puts, Paxos-commit
/// transfers and 2PC transfers at random through the one client (<see cref="RunCompareAsync"/>).
/// </summary>
internal sealed class TransferWorkload : IAsyncDisposable
{
    private const int AmountMax = 100;

    /// <summary>The key of <see cref="Exception.Data"/> naming the step a failed transfer was in (begin, read, commit).</summary>
    public const string PhaseKey = "kv.load.phase";

    private readonly KvClient _client;
    private readonly Accounts _accounts;
    private readonly ClusterAdmin _admin;
    private readonly KvTransactionOptions _txOptions;
    private readonly KvTransactionOptions _paxos;
    private readonly KvTransactionOptions _twoPhase;
    private readonly KeySpace _putKeys;
    private readonly int _rangesPerTxn;
    private readonly long[] _commitsByNode;
    private readonly bool _clientStaging;
    private long _clientStagedCommits;

    private TransferWorkload(LoadOptions options, KvClient client, Accounts accounts, ClusterAdmin admin, KeySpace putKeys)
    {
        _client = client;
        _putKeys = putKeys;
        VariantNames = options.Operation == LoadOperation.Compare ? ["put", "paxos", "two_phase"] : [LoadResult.ProtocolName(options.Protocol)];
        _accounts = accounts;
        _admin = admin;
        _rangesPerTxn = options.RangesPerTxn;
        _commitsByNode = new long[options.Endpoints.Count + 1];
        _clientStaging = options.ClientStaging;
        _txOptions = new KvTransactionOptions
        {
            Protocol = options.Protocol switch
            {
                TransferProtocol.Paxos => KvCommitProtocol.Paxos,
                TransferProtocol.TwoPhase => KvCommitProtocol.TwoPhase,
                _ => KvCommitProtocol.Default,
            },
            MaxAttempts = options.MaxAttempts,
        };
        _paxos = _txOptions with { Protocol = KvCommitProtocol.Paxos };
        _twoPhase = _txOptions with { Protocol = KvCommitProtocol.TwoPhase };
    }

    /// <summary>Learns the ranges from the cluster and places the accounts in them.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="admin">The cluster's Admin API (ranges; node positions).</param>
    /// <param name="putKeys">The keys single-range puts write (<c>--op compare</c>).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<TransferWorkload> CreateAsync(LoadOptions options, ClusterAdmin admin, KeySpace putKeys, CancellationToken cancellationToken)
    {
        var ranges = await admin.ListRangesAsync(cancellationToken).ConfigureAwait(false);
        var accounts = new Accounts(options.Accounts, ranges);
        if (accounts.RangeCount < options.RangesPerTxn)
            throw new ArgumentException($"--ranges-per-txn {options.RangesPerTxn}: the accounts are in only {accounts.RangeCount} range(s) with two or more of them; run --op setup first");
        Console.Error.WriteLine($"transfer: {options.Accounts:N0} accounts in {accounts.RangeCount} ranges ({string.Join(", ", accounts.AccountsPerRange)}), "
            + $"{options.RangesPerTxn} range(s) per transaction, "
            + (options.Operation == LoadOperation.Compare ? "mixed with single-range puts, both protocols" : $"protocol {options.Protocol}"));
        var client = new KvClient(options.Endpoints, new KvClientOptions
        {
            WriteLanes = Math.Clamp(options.Clients, 16, 1024),
            PerCallTimeout = TimeSpan.FromSeconds(5),
            OverallDeadline = TimeSpan.FromSeconds(10),
            StageCommitsAtLeaders = options.ClientStaging,
        });
        return new TransferWorkload(options, client, accounts, admin, putKeys);
    }

    /// <summary>Set by the timeline: told about every commit that failed and every one that succeeded.</summary>
    public InDoubtTracker? Tracker { get; set; }

    /// <summary>Commits sent per node (index = position in <c>--endpoints</c>; 0: no leader known, the SDK rotated over the seeds).</summary>
    public IReadOnlyList<long> CommitsByNode => Enumerable.Range(0, _commitsByNode.Length).Select(CommitsTo).ToArray();

    public long CommitsTo(int node) => Interlocked.Read(ref _commitsByNode[node]);

    /// <summary>Commits the SDK staged at the ranges' leaders itself (no coordinating node); not in <see cref="CommitsByNode"/>.</summary>
    public long ClientStagedCommits => Interlocked.Read(ref _clientStagedCommits);

    /// <summary>The kinds of operation this workload reports (<see cref="OperationOutcome.Variant"/>), as named in results.</summary>
    public IReadOnlyList<string> VariantNames { get; }

    /// <summary>How many accounts one transaction touches.</summary>
    public int AccountsPerTxn => _rangesPerTxn == 1 ? 2 : _rangesPerTxn;

    /// <summary>Runs one transfer (retried on conflicts by the SDK); throws what the SDK throws once it gives up.</summary>
    public Task<OperationOutcome> RunAsync(Random random, CancellationToken cancellationToken) =>
        TransferAsync(random, _txOptions, 0, cancellationToken);

    /// <summary>A single-range put, a Paxos-commit transfer or a 2PC transfer, at random (variants 0, 1, 2).</summary>
    public async Task<OperationOutcome> RunCompareAsync(Random random, CancellationToken cancellationToken)
    {
        switch (random.Next(3))
        {
            case 0:
                await _client.PutAsync(_putKeys.Key(random.Next(_putKeys.Count)), _putKeys.Value, cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, 0, 0);
            case 1:
                return await TransferAsync(random, _paxos, 1, cancellationToken).ConfigureAwait(false);
            default:
                return await TransferAsync(random, _twoPhase, 2, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<OperationOutcome> TransferAsync(Random random, KvTransactionOptions txOptions, int variant, CancellationToken cancellationToken)
    {
        var picked = new int[AccountsPerTxn];
        _accounts.Pick(random, _rangesPerTxn, picked);
        long amount = random.Next(1, AmountMax + 1);
        int attempts = 0;
        long commitUs = 0;
        bool commitFailed = false;
        string phase = "begin";
        try
        {
            await _client.RunTransactionAsync(async tx =>
            {
                attempts++;
                phase = "read";
                var balances = new long[picked.Length];
                for (int i = 0; i < picked.Length; i++)
                {
                    var entry = await tx.GetAsync(_accounts.Key(picked[i]), cancellationToken).ConfigureAwait(false)
                        ?? throw new MissingKeyException(Accounts.Name(picked[i]));
                    if (!Utf8Parser.TryParse(entry.Value.Span, out balances[i], out int used) || used != entry.Value.Length)
                        throw new InvalidDataException($"account {Accounts.Name(picked[i])} holds '{entry.ValueString}', not a balance");
                }
                // One debit (the home key, written first), the rest credits: the total never changes.
                long credits = picked.Length - 1;
                await tx.PutAsync(_accounts.Key(picked[0]), Balance(balances[0] - amount * credits), cancellationToken).ConfigureAwait(false);
                for (int i = 1; i < picked.Length; i++)
                    await tx.PutAsync(_accounts.Key(picked[i]), Balance(balances[i] + amount), cancellationToken).ConfigureAwait(false);

                if (StagedByClient(_clientStaging, _rangesPerTxn, txOptions.Protocol))
                {
                    Interlocked.Increment(ref _clientStagedCommits);
                }
                else
                {
                    // The SDK sends the commit to the leader it learned last (else a seed): that node coordinates.
                    int coordinator = _admin.PositionOf(_client.CachedLeaderEndpoint);
                    Interlocked.Increment(ref _commitsByNode[coordinator]);
                }
                phase = "commit";
                long began = Stopwatch.GetTimestamp();
                try
                {
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (KvTransactionConflictException)
                {
                    phase = "begin"; // RunTransactionAsync begins the next attempt
                    throw;
                }
                catch (Exception e) when (e is not KvUnavailableException && !cancellationToken.IsCancellationRequested)
                {
                    // Sent, and failed without an answer (KvUnavailableException: it was not sent at all).
                    commitFailed = true;
                    throw;
                }
                commitUs = Math.Max(1, (Stopwatch.GetTimestamp() - began) * 1_000_000 / Stopwatch.Frequency);
            }, txOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            e.Data[PhaseKey] = phase;
            // The commit was sent and its outcome is unknown (or it failed otherwise): its keys may be locked.
            if (commitFailed) Tracker?.CommitFailed(picked.Select(_accounts.Key).ToArray());
            throw;
        }
        Tracker?.Committed(picked.Select(_accounts.Key).ToArray());
        return new OperationOutcome(commitUs, attempts - 1, variant);
    }

    /// <summary>
    /// Whether the SDK stages this commit itself (KvClientOptions.StageCommitsAtLeaders): a Paxos or default-protocol
    /// commit of writes in two or more ranges, without scans or locking reads (a transfer has neither). The SDK falls
    /// back to a coordinated commit only after a node refuses a part: a correct node refuses none, except that a
    /// cluster whose default protocol is 2PC refuses default-protocol stages (every bench cluster's default is Paxos).
    /// </summary>
    internal static bool StagedByClient(bool clientStaging, int rangesPerTxn, KvCommitProtocol protocol) =>
        clientStaging && rangesPerTxn >= 2 && protocol != KvCommitProtocol.TwoPhase;

    private static byte[] Balance(long value)
    {
        Span<byte> buffer = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, buffer, out int written);
        return buffer[..written].ToArray();
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
