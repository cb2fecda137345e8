using System.Globalization;

namespace Kv.Load;

/// <summary>
/// <c>Kv.Load costs</c>: per-commit costs from scrapes of every node's <c>/metrics</c> taken by a script around a run
/// (bench/commit-protocols.sh). Prints one line of name=value pairs: the run's counts, the commits, and the counts per
/// commit, raw and less the background an idle window of the same cluster shows (heartbeats, liveness messages).
/// </summary>
internal static class CostsCommand
{
    public const string Usage =
        "usage: Kv.Load costs --before F,F,F --after F,F,F --seconds S [--commits N | --protocol paxos|two-phase] "
        + "[--idle-before F,F,F --idle-after F,F,F --idle-seconds S]\n"
        + "  F: a saved /metrics page of each node, the same nodes in the same order; S: how long each window lasted; "
        + "--commits: what to divide by (puts), else the transactions of --protocol the nodes counted as committed";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] known = ["--before", "--after", "--seconds", "--commits", "--protocol", "--idle-before", "--idle-after", "--idle-seconds"];
        for (int i = 0; i < args.Length; i++)
        {
            if (!known.Contains(args[i]) || i + 1 >= args.Length)
                return Fail($"'{args[i]}' is not a known flag with a value");
            values[args[i]] = args[++i];
        }
        try
        {
            var run = CommitCosts.Between(await ReadAsync(values, "--before", cancellationToken), await ReadAsync(values, "--after", cancellationToken));
            double seconds = Number(values, "--seconds");
            double commits = values.TryGetValue("--commits", out _) ? Number(values, "--commits")
                : values.GetValueOrDefault("--protocol") switch
                {
                    "paxos" => run.TxnCommittedPaxos,
                    "two-phase" => run.TxnCommittedTwoPhase,
                    _ => throw new ArgumentException("give --commits N or --protocol paxos|two-phase"),
                };
            string line = string.Create(CultureInfo.InvariantCulture,
                $"commits={commits:0} txn_committed_paxos={run.TxnCommittedPaxos:0} txn_committed_two_phase={run.TxnCommittedTwoPhase:0} "
                + $"txn_not_committed={run.TxnNotCommitted:0} seconds={seconds:0.00} {run.Fields("")} {run.PerCommit(commits).Fields("per_commit_")}");
            if (values.ContainsKey("--idle-before"))
            {
                var idle = CommitCosts.Between(await ReadAsync(values, "--idle-before", cancellationToken), await ReadAsync(values, "--idle-after", cancellationToken));
                var background = idle.Background(Number(values, "--idle-seconds"), seconds);
                line += " " + background.Fields("background_") + " " + run.Plus(background, -1).PerCommit(commits).Fields("net_per_commit_");
            }
            Console.WriteLine(line);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IOException)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"costs: {message}\n{Usage}");
        return 2;
    }

    private static double Number(Dictionary<string, string> values, string flag) =>
        values.TryGetValue(flag, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0
            ? v
            : throw new ArgumentException($"{flag} needs a number, 0 or more (got '{values.GetValueOrDefault(flag)}')");

    private static async Task<IReadOnlyList<MetricsScrape>> ReadAsync(Dictionary<string, string> values, string flag, CancellationToken cancellationToken)
    {
        if (!values.TryGetValue(flag, out var list)) throw new ArgumentException($"{flag} is missing");
        var scrapes = new List<MetricsScrape>();
        foreach (var path in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                scrapes.Add(MetricsScrape.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path}: {e.Message}");
            }
        }
        return scrapes;
    }
}
