using System.Globalization;

namespace Kv.Load;

/// <summary>The system a run drives.</summary>
internal enum LoadTargetKind
{
    /// <summary>A Kv cluster, through the Kv.Client SDK.</summary>
    Kv,

    /// <summary>An etcd cluster, through the dotnet-etcd package.</summary>
    Etcd,
}

/// <summary>What each worker does in its loop.</summary>
internal enum LoadOperation
{
    /// <summary>Write the value under a random key.</summary>
    Put,

    /// <summary>Read a random key (linearizable); the keys are preloaded first, untimed.</summary>
    Get,

    /// <summary>Not a benchmark: one put, retried until it succeeds or <see cref="LoadOptions.Seconds"/> pass (readiness check for scripts).</summary>
    Probe,
}

/// <summary>The command line of one run. Every flag is validated up front so that a typo fails before any load.</summary>
internal sealed record LoadOptions
{
    public const string Usage =
        "usage: Kv.Load --target kv|etcd --endpoints URL,URL,URL --op put|get|probe [--clients N] [--seconds S] "
        + "[--warmup-seconds W] [--keys K] [--value-bytes B] [--client-instances I] [--seed X] [--json FILE]";

    public required LoadTargetKind Target { get; init; }
    public required IReadOnlyList<string> Endpoints { get; init; }
    public required LoadOperation Operation { get; init; }
    public int Clients { get; init; } = 1;
    public double Seconds { get; init; } = 10;
    public double WarmupSeconds { get; init; } = 3;
    public int Keys { get; init; } = 10_000;
    public int ValueBytes { get; init; } = 256;

    /// <summary>How many SDK client objects the workers are spread over (each has its own channels and connections).</summary>
    public int ClientInstances { get; init; } = 1;

    public int Seed { get; init; } = 1;
    public string? JsonPath { get; init; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> naming every problem.</summary>
    public static LoadOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        string[] known = ["--target", "--endpoints", "--op", "--clients", "--seconds", "--warmup-seconds", "--keys",
            "--value-bytes", "--client-instances", "--seed", "--json"];
        for (int i = 0; i < args.Length; i++)
        {
            if (!known.Contains(args[i])) { problems.Add($"unknown argument '{args[i]}'"); continue; }
            if (i + 1 >= args.Length) { problems.Add($"{args[i]} needs a value"); continue; }
            values[args[i]] = args[++i];
        }

        T Read<T>(string flag, T fallback, Func<string, T?> parse, Func<T, bool> valid, string rule) where T : struct
        {
            if (!values.TryGetValue(flag, out var text)) return fallback;
            if (parse(text) is T value && valid(value)) return value;
            problems.Add($"{flag} '{text}': {rule}");
            return fallback;
        }
        static int? Int(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : null;
        static double? Num(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;

        LoadTargetKind? target = values.GetValueOrDefault("--target") switch
        {
            "kv" => LoadTargetKind.Kv,
            "etcd" => LoadTargetKind.Etcd,
            _ => null,
        };
        if (target is null) problems.Add("--target must be kv or etcd");
        LoadOperation? op = values.GetValueOrDefault("--op") switch
        {
            "put" => LoadOperation.Put,
            "get" => LoadOperation.Get,
            "probe" => LoadOperation.Probe,
            _ => null,
        };
        if (op is null) problems.Add("--op must be put, get or probe");
        var endpoints = (values.GetValueOrDefault("--endpoints") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (endpoints.Length == 0) problems.Add("--endpoints needs at least one URL (http://host:port)");
        foreach (var e in endpoints)
            if (!Uri.TryCreate(e, UriKind.Absolute, out var uri) || uri.Scheme != "http")
                problems.Add($"--endpoints '{e}' is not an http://host:port URL");

        var options = new LoadOptions
        {
            Target = target ?? LoadTargetKind.Kv,
            Endpoints = endpoints,
            Operation = op ?? LoadOperation.Put,
            Clients = Read("--clients", 1, Int, v => v is >= 1 and <= 4096, "a whole number from 1 to 4096"),
            Seconds = Read("--seconds", 10.0, Num, v => v > 0, "a positive number of seconds"),
            WarmupSeconds = Read("--warmup-seconds", 3.0, Num, v => v >= 0, "0 or more seconds"),
            Keys = Read("--keys", 10_000, Int, v => v is >= 1 and <= 100_000_000, "a whole number from 1 to 100,000,000"),
            ValueBytes = Read("--value-bytes", 256, Int, v => v is >= 0 and <= 1_048_576, "0 to 1,048,576 bytes"),
            ClientInstances = Read("--client-instances", 1, Int, v => v is >= 1 and <= 64, "a whole number from 1 to 64"),
            Seed = Read("--seed", 1, Int, _ => true, "a whole number"),
            JsonPath = values.GetValueOrDefault("--json"),
        };
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems.Select(p => "  - " + p).Prepend("invalid arguments:").Append(Usage)));
        return options;
    }
}
