using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using HdrHistogram;

namespace Kv.Load;

/// <summary>The measured window of one run: throughput of successful operations, their latency, and the failures.</summary>
internal sealed record LoadResult
{
    public required string Target { get; init; }
    public required string Op { get; init; }
    public required IReadOnlyList<string> Endpoints { get; init; }
    public required int Clients { get; init; }
    public required int ClientInstances { get; init; }
    public required double Seconds { get; init; }
    public required double WarmupSeconds { get; init; }
    public required int Keys { get; init; }
    public required int ValueBytes { get; init; }

    /// <summary>Successful operations that started inside the measured window.</summary>
    public required long Ops { get; init; }
    public required double OpsPerSecond { get; init; }
    public required long P50Us { get; init; }
    public required long P90Us { get; init; }
    public required long P99Us { get; init; }
    public required long P999Us { get; init; }
    public required long MaxUs { get; init; }
    public required double MeanUs { get; init; }

    /// <summary>Failed operations that started inside the measured window (after the SDK's own retries).</summary>
    public required long Errors { get; init; }
    public required IReadOnlyList<ErrorKind> ErrorKinds { get; init; }

    /// <summary>CPU time of this load generator over the whole run (warmup included) ÷ its wall time.</summary>
    public required double ClientCores { get; init; }

    /// <summary><c>closed</c> (N workers, each waits for its answer) or <c>open</c> (operations due at a fixed rate, latency from when each was due).</summary>
    public required string Loop { get; init; }

    /// <summary>Open loop: the operations per second asked for.</summary>
    public double? RatePerSecond { get; init; }

    /// <summary><c>--operations</c>: how many operations were measured (the window is how long they took).</summary>
    public long? OperationsRequested { get; init; }

    /// <summary>CPU seconds the <c>--server-pids</c> used over the measured window, all together.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary><see cref="ServerCpuSeconds"/> per 1,000 successful measured operations: what the load costs the servers.</summary>
    public double? ServerCpuSecondsPer1000Ops { get; init; }

    // YCSB only.
    public string? Workload { get; init; }
    public string? Distribution { get; init; }
    public int? ScanLengthMax { get; init; }

    /// <summary>Every second of the run (warmup included), by the second in which operations ended.</summary>
    public IReadOnlyList<PerSecondPoint>? PerSecond { get; init; }

    // Transfers only (null otherwise, and left out of the JSON).
    public string? Protocol { get; init; }
    public int? RangesPerTxn { get; init; }
    public int? Accounts { get; init; }

    /// <summary>Attempts run again after a conflict, by the measured transactions that succeeded.</summary>
    public long? Retries { get; init; }

    /// <summary>The commit alone (the attempt that committed), µs.</summary>
    public long? CommitP50Us { get; init; }
    public long? CommitP90Us { get; init; }
    public long? CommitP99Us { get; init; }
    public long? CommitP999Us { get; init; }
    public long? CommitMaxUs { get; init; }
    public double? CommitMeanUs { get; init; }

    /// <summary>Commits sent to a node that coordinated them, over the whole run (index = position in the endpoints; 0: no leader known).</summary>
    public IReadOnlyList<long>? CommitsByNode { get; init; }

    /// <summary>The node that got the most commits (position in the endpoints); null when no node coordinated any.</summary>
    public int? Coordinator { get; init; }

    /// <summary>Commits the SDK staged at the ranges' leaders itself: no node coordinated them (not in <see cref="CommitsByNode"/>).</summary>
    public long? ClientStagedCommits { get; init; }

    /// <summary><c>--op compare</c>: each kind of operation (put, Paxos commit, 2PC) on its own.</summary>
    public IReadOnlyList<VariantResult>? Variants { get; init; }

    public TimelineSummary? Timeline { get; init; }

    /// <summary>Every transaction probed after a failed commit (timeline runs).</summary>
    public IReadOnlyList<InDoubtRecord>? InDoubt { get; init; }

    /// <summary>The probes' failed reads (a key still blocked, or its range electing), by kind (timeline runs).</summary>
    public IReadOnlyList<ProbeFailure>? ProbeFailures { get; init; }

    /// <param name="options">The run's settings.</param>
    /// <param name="run">What the runner measured.</param>
    /// <param name="variantNames">The names of the kinds of operation (<see cref="OperationOutcome.Variant"/>); with two or more, each gets its own figures.</param>
    /// <param name="transfer">Transfers: the workload, for its commit counts.</param>
    /// <param name="timeline">Transfers with a timeline.</param>
    public static LoadResult Merge(LoadOptions options, RunOutcome run, IReadOnlyList<string>? variantNames = null,
        TransferWorkload? transfer = null, Timeline? timeline = null)
    {
        var workers = run.Workers;
        var all = Combine(workers.SelectMany(w => w.Histograms));
        var commit = Combine(workers.SelectMany(w => w.CommitHistograms));
        var kinds = workers.SelectMany(w => w.ErrorKinds)
            .GroupBy(k => k.Key, StringComparer.Ordinal)
            .Select(g => new ErrorKind(g.Key, g.Sum(k => k.Value.Count), g.First().Value.FirstMessage,
                g.Sum(k => k.Value.TotalUs) / Math.Max(1, g.Sum(k => k.Value.Count)), g.Max(k => k.Value.MaxUs)))
            .OrderByDescending(k => k.Count)
            .ToArray();
        bool any = all.TotalCount > 0;
        bool isTransfer = transfer is not null;
        bool anyCommit = commit.TotalCount > 0;
        var commitsByNode = transfer?.CommitsByNode;
        variantNames ??= transfer?.VariantNames ?? [];
        double? serverCpu = run.ServerCpuSeconds;
        return new LoadResult
        {
            Target = options.Target.ToString().ToLowerInvariant(),
            Op = options.Operation.ToString().ToLowerInvariant(),
            Endpoints = options.Endpoints,
            Clients = options.Clients,
            ClientInstances = options.ClientInstances,
            Seconds = run.MeasuredSeconds,
            WarmupSeconds = options.WarmupSeconds,
            Keys = options.Keys,
            ValueBytes = options.ValueBytes,
            Ops = all.TotalCount,
            OpsPerSecond = all.TotalCount / run.MeasuredSeconds,
            P50Us = any ? all.GetValueAtPercentile(50) : 0,
            P90Us = any ? all.GetValueAtPercentile(90) : 0,
            P99Us = any ? all.GetValueAtPercentile(99) : 0,
            P999Us = any ? all.GetValueAtPercentile(99.9) : 0,
            MaxUs = any ? all.GetMaxValue() : 0,
            MeanUs = any ? all.GetMean() : 0,
            Errors = workers.Sum(w => w.Errors),
            ErrorKinds = kinds,
            ClientCores = run.ClientCores,
            Loop = options.RatePerSecond is null ? "closed" : "open",
            RatePerSecond = options.RatePerSecond,
            OperationsRequested = options.Operations,
            ServerCpuSeconds = serverCpu,
            ServerCpuSecondsPer1000Ops = serverCpu is { } cpu && all.TotalCount > 0 ? cpu * 1000 / all.TotalCount : null,
            Workload = options.Workload?.Name,
            Distribution = options.Operation == LoadOperation.Ycsb ? options.Distribution.ToString().ToLowerInvariant() : null,
            ScanLengthMax = options.Workload?.Scan > 0 ? options.ScanLengthMax : null,
            PerSecond = run.Series.Points(),
            Protocol = isTransfer ? options.Operation == LoadOperation.Compare ? "compare" : ProtocolName(options.Protocol) : null,
            RangesPerTxn = isTransfer ? options.RangesPerTxn : null,
            Accounts = isTransfer ? options.Accounts : null,
            Retries = isTransfer ? workers.Sum(w => w.Retries.Sum()) : null,
            CommitP50Us = isTransfer ? (anyCommit ? commit.GetValueAtPercentile(50) : 0) : null,
            CommitP90Us = isTransfer ? (anyCommit ? commit.GetValueAtPercentile(90) : 0) : null,
            CommitP99Us = isTransfer ? (anyCommit ? commit.GetValueAtPercentile(99) : 0) : null,
            CommitP999Us = isTransfer ? (anyCommit ? commit.GetValueAtPercentile(99.9) : 0) : null,
            CommitMaxUs = isTransfer ? (anyCommit ? commit.GetMaxValue() : 0) : null,
            CommitMeanUs = isTransfer ? (anyCommit ? commit.GetMean() : 0) : null,
            CommitsByNode = commitsByNode,
            Coordinator = commitsByNode is null || commitsByNode.Sum() == 0 ? null
                : Enumerable.Range(0, commitsByNode.Count).MaxBy(n => commitsByNode[n]),
            ClientStagedCommits = transfer?.ClientStagedCommits,
            Variants = variantNames.Count > 1
                ? variantNames.Select((name, v) => VariantResult.From(name, run.MeasuredSeconds,
                    Combine(workers.Select(w => w.Histograms[v])), Combine(workers.Select(w => w.CommitHistograms[v])),
                    workers.Sum(w => w.Retries[v])))
                    // YCSB names every kind; a workload uses two of them.
                    .Where(v => transfer is not null || v.Ops > 0).ToArray()
                : null,
            Timeline = timeline is not null && options.EventsPath is { } events ? TimelineSummary.From(timeline, events, options.WarmupSeconds, run.MeasuredSeconds) : null,
            InDoubt = timeline?.Tracker?.Entries.Select(e => new InDoubtRecord(
                e.Kind == InDoubtTracker.Kind.CommitFailed ? "commit_failed" : "answered_before_failure", e.SinceStartS, e.UsableAtS, e.AvailableAtS, e.LockWaitS)).ToArray(),
            ProbeFailures = timeline?.Tracker?.ProbeFailures.Select(f => new ProbeFailure(f.Key, f.Value.Count, f.Value.MeanUs, f.Value.FirstMessage))
                .OrderByDescending(f => f.Count).ToArray(),
        };
    }

    public static string ProtocolName(TransferProtocol protocol) => protocol switch
    {
        TransferProtocol.Paxos => "paxos",
        TransferProtocol.TwoPhase => "two-phase",
        _ => "default",
    };

    private static LongHistogram Combine(IEnumerable<LongHistogram> histograms)
    {
        LongHistogram? all = null;
        foreach (var h in histograms)
        {
            all ??= new LongHistogram(h.HighestTrackableValue, h.NumberOfSignificantValueDigits);
            all.Add(h);
        }
        return all ?? new LongHistogram(60_000_000, 3);
    }

    /// <summary>
    /// One line of <c>name=value</c> pairs, stable for scripts to parse. Transfers add the protocol, the commit's
    /// latency, the retries and where the commits went; timeline runs with events add <see cref="TimelineSummary"/>.
    /// </summary>
    public string SummaryLine()
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"target={Target} op={Op} clients={Clients} seconds={Seconds} ops={Ops} ops_per_s={OpsPerSecond:0.0} "
            + $"p50_us={P50Us} p90_us={P90Us} p99_us={P99Us} p999_us={P999Us} max_us={MaxUs} errors={Errors} client_cores={ClientCores:0.00} loop={Loop}");
        if (RatePerSecond is { } rate) line += string.Create(CultureInfo.InvariantCulture, $" rate={rate:0.#}");
        if (ServerCpuSeconds is { } cpu)
            line += string.Create(CultureInfo.InvariantCulture, $" server_cpu_s={cpu:0.00} server_cpu_s_per_1000_ops={ServerCpuSecondsPer1000Ops:0.000}");
        if (Workload is not null)
        {
            line += $" workload={Workload} distribution={Distribution}";
            foreach (var v in Variants ?? []) line += " " + v.SummaryFields();
        }
        else if (Protocol is null)
        {
            foreach (var v in Variants ?? []) line += " " + v.SummaryFields(); // --op mixed: get_… and put_…
        }
        if (Protocol is null) return line;
        line += string.Create(CultureInfo.InvariantCulture,
            $" protocol={Protocol} ranges_per_txn={RangesPerTxn} commit_p50_us={CommitP50Us} commit_p90_us={CommitP90Us} "
            + $"commit_p99_us={CommitP99Us} commit_p999_us={CommitP999Us} commit_max_us={CommitMaxUs} retries={Retries} "
            + $"commits_by_node={string.Join('/', CommitsByNode ?? [])} coordinator={Coordinator} client_staged_commits={ClientStagedCommits}");
        if (Variants is not null)
        {
            foreach (var v in Variants) line += " " + v.SummaryFields();
        }
        return Timeline is null ? line : line + " " + Timeline.SummaryFields();
    }

    /// <summary>Writes <see cref="ResultMarkdown.Render"/> to <paramref name="path"/>.</summary>
    public Task WriteMarkdownAsync(string path, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(path, ResultMarkdown.Render(this), cancellationToken);

    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        var json = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, this, json, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Reads of a probe that failed (the SDK gave up), by kind: how many, how long each took on average (µs), the first message.</summary>
internal sealed record ProbeFailure(string Kind, long Count, long MeanUs, string FirstMessage);

/// <summary>
/// One kind of operation of a <c>--op compare</c> run: its throughput and latency, and its commit's (transfers).
/// <see cref="MaxOfTwoP50Us"/> is the p70.7 of its latency: the median of the larger of two independent draws
/// (F(x)² = ½), the floor a commit waiting for two such operations in parallel cannot beat.
/// </summary>
internal sealed record VariantResult(
    string Name, long Ops, double OpsPerSecond, long P50Us, long P90Us, long P99Us, long P999Us, long MaxUs,
    long? CommitP50Us, long? CommitP90Us, long? CommitP99Us, long? CommitMaxUs, long Retries, long MaxOfTwoP50Us)
{
    public static VariantResult From(string name, double seconds, LongHistogram all, LongHistogram commit, long retries)
    {
        bool any = all.TotalCount > 0, anyCommit = commit.TotalCount > 0;
        return new VariantResult(name, all.TotalCount, all.TotalCount / seconds,
            any ? all.GetValueAtPercentile(50) : 0, any ? all.GetValueAtPercentile(90) : 0, any ? all.GetValueAtPercentile(99) : 0,
            any ? all.GetValueAtPercentile(99.9) : 0, any ? all.GetMaxValue() : 0,
            anyCommit ? commit.GetValueAtPercentile(50) : null, anyCommit ? commit.GetValueAtPercentile(90) : null,
            anyCommit ? commit.GetValueAtPercentile(99) : null, anyCommit ? commit.GetMaxValue() : null, retries,
            any ? all.GetValueAtPercentile(100 * Math.Sqrt(0.5)) : 0);
    }

    /// <summary><c>NAME_ops_per_s=… NAME_p50_us=…</c>, and the commit's percentiles when it has commits.</summary>
    public string SummaryFields()
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{Name}_ops_per_s={OpsPerSecond:0.0} {Name}_p50_us={P50Us} {Name}_p90_us={P90Us} {Name}_p99_us={P99Us} {Name}_max_us={MaxUs}");
        if (CommitP50Us is null) return line;
        return line + string.Create(CultureInfo.InvariantCulture,
            $" {Name}_commit_p50_us={CommitP50Us} {Name}_commit_p90_us={CommitP90Us} {Name}_commit_p99_us={CommitP99Us} {Name}_commit_max_us={CommitMaxUs} {Name}_retries={Retries}");
    }
}

/// <summary>
/// A transaction probed after a failed commit: its kind, when it was taken up, when its keys were all usable and when
/// their ranges could all serve (s since the run's start; null: not by the end), and the longest a key waited for its lock alone.
/// </summary>
internal sealed record InDoubtRecord(string Kind, double SinceStartS, double? UsableAtS, double? AvailableAtS, double? LockWaitS);

/// <summary>
/// Failures of one kind (exception type, with the Kv error code or gRPC status), the first one's message, and how
/// long the failed operations ran before they failed (mean and max, µs).
/// </summary>
internal sealed record ErrorKind(string Kind, long Count, string FirstMessage, long MeanUs, long MaxUs);
