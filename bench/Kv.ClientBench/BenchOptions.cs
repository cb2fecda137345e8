using System.Globalization;

namespace Kv.ClientBench;

/// <summary>The <c>--name value</c> flags; unknown or valueless flags are errors.</summary>
internal sealed record BenchOptions
{
    private static readonly string[] Known =
    [
        "endpoints", "value-bytes", "warmup-gets", "block-gets", "blocks", "concurrency", "concurrent-block-gets",
        "concurrent-blocks", "alloc-gets", "alloc-rounds", "diagnostic-rounds", "profile-gets", "json", "report", "commit", "command",
        "node-pids", "loadavg-start", "sdk-version", "node-settings",
    ];

    /// <summary>The nodes' client endpoints (any order).</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>The size of the one value every Get reads.</summary>
    public int ValueBytes { get; init; } = 256;

    /// <summary>Gets of each variant before anything is measured (JIT tiering, connections, the SDK's range map).</summary>
    public int WarmupGets { get; init; } = 3_000;

    /// <summary>Sequential Gets per block in the single-caller latency run.</summary>
    public int BlockGets { get; init; } = 200;

    /// <summary>Blocks of each variant in the single-caller latency run.</summary>
    public int Blocks { get; init; } = 50;

    /// <summary>Callers in the concurrent latency run (0: skip it).</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Sequential Gets per caller per block in the concurrent run.</summary>
    public int ConcurrentBlockGets { get; init; } = 50;

    /// <summary>Blocks of each variant in the concurrent run.</summary>
    public int ConcurrentBlocks { get; init; } = 20;

    /// <summary>Sequential Gets per allocation measurement.</summary>
    public int AllocGets { get; init; } = 20_000;

    /// <summary>Allocation measurements of each variant (alternating).</summary>
    public int AllocRounds { get; init; } = 2;

    /// <summary>Allocation measurements of each diagnostic variant (<see cref="Measurements.AllocationOnly"/>; 0: skip them).</summary>
    public int DiagnosticRounds { get; init; } = 1;

    /// <summary>Sequential Gets per variant under the allocation-sampling listener (0: no type profile).</summary>
    public int ProfileGets { get; init; } = 60_000;

    /// <summary>Where the raw figures go as JSON (none: not written).</summary>
    public string? JsonPath { get; init; }

    /// <summary>Where the markdown report goes (none: not written).</summary>
    public string? ReportPath { get; init; }

    /// <summary>Facts the script knows and the report states: commit, command line, SDK version, node settings.</summary>
    public string Commit { get; init; } = "unknown";

    /// <inheritdoc cref="Commit"/>
    public string Command { get; init; } = "";

    /// <inheritdoc cref="Commit"/>
    public string SdkVersion { get; init; } = "unknown";

    /// <inheritdoc cref="Commit"/>
    public string NodeSettings { get; init; } = "";

    /// <summary>The server processes, whose CPU use the report shows (none: not shown).</summary>
    public IReadOnlyList<int> NodePids { get; init; } = [];

    /// <summary>/proc/loadavg's first three fields when the script started.</summary>
    public string LoadAverageStart { get; init; } = "";

    /// <exception cref="ArgumentException">A flag is unknown, lacks a value, or is out of range.</exception>
    public static BenchOptions Parse(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"stray argument '{args[i]}'");
            if (!Known.Contains(name)) throw new ArgumentException($"unknown flag --{name}; the flags are --{string.Join(", --", Known)}");
            if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value");
            values[name] = args[++i];
        }
        int Int(string name, int fallback, int min)
        {
            if (!values.TryGetValue(name, out var v)) return fallback;
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) throw new ArgumentException($"--{name} '{v}' is not a whole number");
            return n >= min ? n : throw new ArgumentException($"--{name} must be at least {min}");
        }
        string[] List(string name) => values.TryGetValue(name, out var v)
            ? v.Split(',', ' ').Select(s => s.Trim()).Where(s => s.Length > 0).ToArray()
            : [];
        var endpoints = List("endpoints");
        if (endpoints.Length == 0) throw new ArgumentException("--endpoints URL,URL,URL is required");
        return new BenchOptions
        {
            Endpoints = endpoints,
            ValueBytes = Int("value-bytes", 256, 1),
            WarmupGets = Int("warmup-gets", 3_000, 0),
            BlockGets = Int("block-gets", 200, 1),
            Blocks = Int("blocks", 50, 1),
            Concurrency = Int("concurrency", 16, 0),
            ConcurrentBlockGets = Int("concurrent-block-gets", 50, 1),
            ConcurrentBlocks = Int("concurrent-blocks", 20, 1),
            AllocGets = Int("alloc-gets", 20_000, 1),
            AllocRounds = Int("alloc-rounds", 2, 1),
            DiagnosticRounds = Int("diagnostic-rounds", 1, 0),
            ProfileGets = Int("profile-gets", 60_000, 0),
            JsonPath = values.GetValueOrDefault("json"),
            ReportPath = values.GetValueOrDefault("report"),
            Commit = values.GetValueOrDefault("commit", "unknown"),
            Command = values.GetValueOrDefault("command", ""),
            SdkVersion = values.GetValueOrDefault("sdk-version", "unknown"),
            NodeSettings = values.GetValueOrDefault("node-settings", ""),
            NodePids = List("node-pids").Select(p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray(),
            LoadAverageStart = values.GetValueOrDefault("loadavg-start", ""),
        };
    }
}
