using System.Globalization;
using Kv.Load.Ycsb;

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

    /// <summary>
    /// Read a random key serializably (<c>--op sget</c>: any member answers from its own state, possibly stale; etcd
    /// <c>serializable=true</c>); the keys are preloaded first, untimed.
    /// </summary>
    SerializableGet,

    /// <summary>
    /// Half linearizable gets, half puts (<c>--op mixed</c>, drawn per operation: <see cref="MixedWorkload"/>), uniform
    /// random keys, each kind with its own figures; the keys are preloaded first, untimed.
    /// </summary>
    Mixed,

    /// <summary>Not a benchmark: one put, retried until it succeeds or <see cref="LoadOptions.Seconds"/> pass (readiness check for scripts).</summary>
    Probe,

    /// <summary>
    /// A transaction that reads accounts in <see cref="LoadOptions.RangesPerTxn"/> distinct ranges and moves an amount
    /// between them (Kv only; the accounts are written first by <see cref="Setup"/>).
    /// </summary>
    Transfer,

    /// <summary>
    /// Each operation is, at random, a single-range put (<see cref="LoadOptions.Keys"/> keys <c>k…</c>,
    /// <see cref="LoadOptions.ValueBytes"/>), a transfer with Paxos commit or a transfer with 2PC, each kind with its own
    /// histograms: the three compared in the same run, through the same client (so the same coordinating node).
    /// </summary>
    Compare,

    /// <summary>Not a benchmark: splits the cluster into <see cref="LoadOptions.Ranges"/> ranges at evenly spaced account keys and writes every account.</summary>
    Setup,

    /// <summary>Not a benchmark: reads every account in one transaction and checks that the balances add up (exit code 1 if not).</summary>
    Verify,

    /// <summary>
    /// A YCSB core workload (<see cref="LoadOptions.Workload"/>: a, b, c, e, f) over the records <c>k00000000</c>… (Kv
    /// only; the records are written first by <see cref="Load"/>).
    /// </summary>
    Ycsb,

    /// <summary>Not a benchmark: splits the cluster into <see cref="LoadOptions.Ranges"/> ranges at evenly spaced record keys and writes every record (YCSB's load phase).</summary>
    Load,
}

/// <summary>The commit protocol a transfer asks for (<c>--protocol</c>).</summary>
internal enum TransferProtocol
{
    /// <summary>The cluster's default (the nodes' <c>--txn-commit-protocol</c>).</summary>
    Default,

    /// <summary>Paxos commit: the manifest in the home range's Paxos log, written in parallel with the stages.</summary>
    Paxos,

    /// <summary>Classic two-phase commit: the coordinating node logs the decision on its own disk.</summary>
    TwoPhase,
}

/// <summary>The command line of one run. Every flag is validated up front so that a typo fails before any load.</summary>
internal sealed record LoadOptions
{
    public const string Usage =
        "usage: Kv.Load --target kv|etcd --endpoints URL,URL,URL --op put|get|sget|mixed|probe|transfer|compare|setup|verify|load|ycsb [--clients N] "
        + "[--seconds|--duration S | --operations N] [--warmup-seconds|--warmup W] [--rate OPS_PER_S] [--keys|--record-count K] [--value-bytes B] "
        + "[--client-instances I] [--bundle-calls B] [--seed X] [--json FILE] [--markdown FILE] [--server-pids PID,PID,...]"
        + "\n  ycsb/load (Kv only): --workload a|b|c|e|f [--distribution uniform|zipfian] [--scan-length-max L] [--ranges R] [--max-attempts M]"
        + "\n  transfer/setup/verify (Kv only): [--accounts A] [--ranges R] [--ranges-per-txn 1|2|4] [--protocol default|paxos|two-phase] "
        + "[--client-staging on|off] [--max-attempts M] [--timeline FILE.csv [--events FILE] [--drain-seconds D]]";

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

    /// <summary>Kv only: the SDK's <c>BundleCallsInFlight</c> (null: the SDK's default; 0: no bundling).</summary>
    public int? BundleCalls { get; init; }

    public int Seed { get; init; } = 1;
    public string? JsonPath { get; init; }

    /// <summary>Accounts <c>acct-000000</c>… (transfer, setup, verify).</summary>
    public int Accounts { get; init; } = 10_000;

    /// <summary>Setup: how many ranges the accounts are split into, at evenly spaced account keys.</summary>
    public int Ranges { get; init; } = 8;

    /// <summary>Transfer: how many distinct ranges each transaction's accounts are in (1: two accounts of one range).</summary>
    public int RangesPerTxn { get; init; } = 2;

    public TransferProtocol Protocol { get; init; } = TransferProtocol.Default;

    /// <summary>Transfer: <c>KvClientOptions.StageCommitsAtLeaders</c> (off: every commit goes through one coordinating node).</summary>
    public bool ClientStaging { get; init; } = true;

    /// <summary>Transfer: <c>KvTransactionOptions.MaxAttempts</c> (how often a conflicting transaction runs again).</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>Transfer: a CSV file that gets one row per 200 ms (throughput, node status, in-doubt transactions), as the run goes.</summary>
    public string? TimelinePath { get; init; }

    /// <summary>
    /// Transfer with a timeline: a file a script appends <c>kill EPOCH_MS NODE</c> / <c>restart EPOCH_MS NODE</c> lines to
    /// while the run lasts; read at the end to summarize the timeline around those events.
    /// </summary>
    public string? EventsPath { get; init; }

    /// <summary>Transfer with a timeline: how long sampling goes on after the workers stop (to see the locks drain).</summary>
    public double DrainSeconds { get; init; }

    /// <summary>YCSB: the core workload (<c>--workload</c>), null for other operations.</summary>
    public OperationMix? Workload { get; init; }

    /// <summary>YCSB: how records are picked.</summary>
    public KeyDistribution Distribution { get; init; } = KeyDistribution.Uniform;

    /// <summary>YCSB E: scans read a uniform 1..this many records.</summary>
    public int ScanLengthMax { get; init; } = 100;

    /// <summary>Measure this many operations instead of <see cref="Seconds"/> (<c>--operations</c>).</summary>
    public long? Operations { get; init; }

    /// <summary>Open loop at this many operations per second (<c>--rate</c>); null: closed loop.</summary>
    public double? RatePerSecond { get; init; }

    /// <summary>Server processes whose CPU time is sampled at the start and end of the measured window (<c>--server-pids</c>).</summary>
    public IReadOnlyList<int> ServerPids { get; init; } = [];

    /// <summary>A Markdown file that gets the run's table (<c>--markdown</c>).</summary>
    public string? MarkdownPath { get; init; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> naming every problem.</summary>
    public static LoadOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        string[] known = ["--target", "--endpoints", "--op", "--clients", "--seconds", "--warmup-seconds", "--keys",
            "--value-bytes", "--client-instances", "--bundle-calls", "--seed", "--json", "--accounts", "--ranges", "--ranges-per-txn", "--protocol",
            "--max-attempts", "--timeline", "--events", "--drain-seconds", "--workload", "--distribution", "--scan-length-max",
            "--operations", "--rate", "--server-pids", "--markdown", "--client-staging"];
        // The YCSB names of the same settings.
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--duration"] = "--seconds",
            ["--warmup"] = "--warmup-seconds",
            ["--record-count"] = "--keys",
        };
        for (int i = 0; i < args.Length; i++)
        {
            string flag = aliases.GetValueOrDefault(args[i], args[i]);
            if (!known.Contains(flag)) { problems.Add($"unknown argument '{args[i]}'"); continue; }
            if (i + 1 >= args.Length) { problems.Add($"{args[i]} needs a value"); continue; }
            if (values.ContainsKey(flag)) problems.Add($"{args[i]} is given twice (or with its other name)");
            values[flag] = args[++i];
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
            "sget" => LoadOperation.SerializableGet,
            "mixed" => LoadOperation.Mixed,
            "probe" => LoadOperation.Probe,
            "transfer" => LoadOperation.Transfer,
            "compare" => LoadOperation.Compare,
            "setup" => LoadOperation.Setup,
            "verify" => LoadOperation.Verify,
            "ycsb" => LoadOperation.Ycsb,
            "load" => LoadOperation.Load,
            _ => null,
        };
        if (op is null) problems.Add("--op must be put, get, sget, mixed, probe, transfer, compare, setup, verify, load or ycsb");
        if (op is LoadOperation.Transfer or LoadOperation.Compare or LoadOperation.Setup or LoadOperation.Verify or LoadOperation.Ycsb
            or LoadOperation.Load && target == LoadTargetKind.Etcd)
            problems.Add($"--op {values["--op"]} runs against Kv only");
        OperationMix? workload = null;
        if (values.TryGetValue("--workload", out var workloadName))
        {
            workload = OperationMix.Named(workloadName);
            if (workload is null) problems.Add($"--workload '{workloadName}': one of a, b, c, e, f (YCSB's core workloads; d is not offered)");
            if (op != LoadOperation.Ycsb) problems.Add("--workload goes with --op ycsb");
        }
        else if (op == LoadOperation.Ycsb)
        {
            problems.Add("--op ycsb needs --workload a|b|c|e|f");
        }
        KeyDistribution? distribution = values.GetValueOrDefault("--distribution", "uniform") switch
        {
            "uniform" => KeyDistribution.Uniform,
            "zipfian" => KeyDistribution.Zipfian,
            _ => null,
        };
        if (distribution is null) problems.Add("--distribution must be uniform or zipfian");
        if (values.ContainsKey("--operations") && values.ContainsKey("--seconds"))
            problems.Add("give --seconds (--duration) or --operations, not both");
        if (values.ContainsKey("--rate") && op is not (LoadOperation.Put or LoadOperation.Get or LoadOperation.SerializableGet or LoadOperation.Mixed or LoadOperation.Ycsb))
            problems.Add("--rate (open loop) goes with --op put, get, sget, mixed or ycsb");
        var serverPids = new List<int>();
        foreach (var text in (values.GetValueOrDefault("--server-pids") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Int(text) is int pid && pid > 0) serverPids.Add(pid);
            else problems.Add($"--server-pids '{text}': a process id");
        }
        TransferProtocol? protocol = values.GetValueOrDefault("--protocol", "default") switch
        {
            "default" => TransferProtocol.Default,
            "paxos" => TransferProtocol.Paxos,
            "two-phase" => TransferProtocol.TwoPhase,
            _ => null,
        };
        if (protocol is null) problems.Add("--protocol must be default, paxos or two-phase");
        bool? clientStaging = values.GetValueOrDefault("--client-staging", "on") switch { "on" => true, "off" => false, _ => null };
        if (clientStaging is null) problems.Add("--client-staging must be on or off");
        if (op == LoadOperation.Compare && values.ContainsKey("--protocol")) problems.Add("--op compare runs both protocols; leave out --protocol");
        if (op != LoadOperation.Transfer && (values.ContainsKey("--timeline") || values.ContainsKey("--events")))
            problems.Add("--timeline and --events go with --op transfer");
        if ((values.ContainsKey("--events") || values.ContainsKey("--drain-seconds")) && !values.ContainsKey("--timeline"))
            problems.Add("--events and --drain-seconds need --timeline");
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
            BundleCalls = values.ContainsKey("--bundle-calls") ? Read("--bundle-calls", 0, Int, v => v is >= 0 and <= 1024, "a whole number from 0 (no bundling) to 1024") : null,
            Seed = Read("--seed", 1, Int, _ => true, "a whole number"),
            JsonPath = values.GetValueOrDefault("--json"),
            Accounts = Read("--accounts", 10_000, Int, v => v is >= 8 and <= 1_000_000, "a whole number from 8 to 1,000,000"),
            Ranges = Read("--ranges", 8, Int, v => v is >= 1 and <= 256, "a whole number from 1 to 256"),
            RangesPerTxn = Read("--ranges-per-txn", 2, Int, v => v is 1 or 2 or 4, "1, 2 or 4"),
            Protocol = protocol ?? TransferProtocol.Default,
            MaxAttempts = Read("--max-attempts", 10, Int, v => v is >= 1 and <= 1_000, "a whole number from 1 to 1,000"),
            TimelinePath = values.GetValueOrDefault("--timeline"),
            EventsPath = values.GetValueOrDefault("--events"),
            DrainSeconds = Read("--drain-seconds", 0.0, Num, v => v is >= 0 and <= 60, "0 to 60 seconds"),
            Workload = workload,
            Distribution = distribution ?? KeyDistribution.Uniform,
            ScanLengthMax = Read("--scan-length-max", 100, Int, v => v is >= 1 and <= 10_000, "a whole number from 1 to 10,000"),
            Operations = values.ContainsKey("--operations")
                ? Read<long>("--operations", 0, s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null,
                    v => v >= 1, "a whole number of operations, 1 or more")
                : null,
            RatePerSecond = values.ContainsKey("--rate") ? Read("--rate", 0.0, Num, v => v is > 0 and <= 10_000_000, "operations per second, more than 0") : null,
            ServerPids = serverPids,
            MarkdownPath = values.GetValueOrDefault("--markdown"),
            ClientStaging = clientStaging ?? true,
        };
        if (options.Accounts < options.Ranges * 2)
            problems.Add($"--accounts {options.Accounts}: at least two accounts per range are needed ({options.Ranges} ranges)");
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(Environment.NewLine, problems.Select(p => "  - " + p).Prepend("invalid arguments:").Append(Usage)));
        return options;
    }
}
