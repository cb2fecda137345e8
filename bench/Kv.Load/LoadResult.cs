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

    public static LoadResult Merge(LoadOptions options, IReadOnlyList<WorkerResult> workers, double clientCores)
    {
        var all = new LongHistogram(workers[0].Histogram.HighestTrackableValue, workers[0].Histogram.NumberOfSignificantValueDigits);
        foreach (var w in workers) all.Add(w.Histogram);
        var kinds = workers.SelectMany(w => w.ErrorKinds)
            .GroupBy(k => k.Key, StringComparer.Ordinal)
            .Select(g => new ErrorKind(g.Key, g.Sum(k => k.Value.Count), g.First().Value.FirstMessage))
            .OrderByDescending(k => k.Count)
            .ToArray();
        bool any = all.TotalCount > 0;
        return new LoadResult
        {
            Target = options.Target.ToString().ToLowerInvariant(),
            Op = options.Operation.ToString().ToLowerInvariant(),
            Endpoints = options.Endpoints,
            Clients = options.Clients,
            ClientInstances = options.ClientInstances,
            Seconds = options.Seconds,
            WarmupSeconds = options.WarmupSeconds,
            Keys = options.Keys,
            ValueBytes = options.ValueBytes,
            Ops = all.TotalCount,
            OpsPerSecond = all.TotalCount / options.Seconds,
            P50Us = any ? all.GetValueAtPercentile(50) : 0,
            P90Us = any ? all.GetValueAtPercentile(90) : 0,
            P99Us = any ? all.GetValueAtPercentile(99) : 0,
            P999Us = any ? all.GetValueAtPercentile(99.9) : 0,
            MaxUs = any ? all.GetMaxValue() : 0,
            MeanUs = any ? all.GetMean() : 0,
            Errors = workers.Sum(w => w.Errors),
            ErrorKinds = kinds,
            ClientCores = clientCores,
        };
    }

    /// <summary>One line of <c>name=value</c> pairs, stable for scripts to parse.</summary>
    public string SummaryLine() => string.Create(CultureInfo.InvariantCulture,
        $"target={Target} op={Op} clients={Clients} seconds={Seconds} ops={Ops} ops_per_s={OpsPerSecond:0.0} "
        + $"p50_us={P50Us} p90_us={P90Us} p99_us={P99Us} p999_us={P999Us} max_us={MaxUs} errors={Errors} client_cores={ClientCores:0.00}");

    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        var json = new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, this, json, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Failures of one kind (exception type, with the Kv error code or gRPC status) and the first one's message.</summary>
internal sealed record ErrorKind(string Kind, long Count, string FirstMessage);
