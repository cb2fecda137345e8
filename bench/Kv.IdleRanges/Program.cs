namespace Kv.IdleRanges;

/// <summary>
/// The cluster-side steps of <c>bench/idle-ranges.sh</c>; the script starts and measures the processes, this
/// talks gRPC to them. Every command takes <c>--endpoints URL,URL,URL</c> (node 1, 2, 3 in that order), writes
/// progress to stderr and its findings to stdout as <c>key=value</c> lines, and exits non-zero on failure.
/// <list type="bullet">
/// <item><c>ready [--timeout-s 60]</c>: every node's Admin API answers and a put succeeds.</item>
/// <item><c>split --count N [--prefix r] [--workers 3]</c>: N admin splits at PREFIX0001..PREFIXN.</item>
/// <item><c>verify --ranges N [--timeout-s 60]</c>: N user ranges, each hosted by every node, each with one leader.</item>
/// <item><c>core --ranges N [--ticks 3000]</c>: no cluster; the Paxos core alone ticking N idle 3-replica groups.</item>
/// </list>
/// </summary>
public static class Program
{
    /// <summary>Runs one command; 0 on success, 1 when the check failed, 2 on bad usage.</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync("usage: Kv.IdleRanges ready|split|verify --endpoints URL,URL,URL [options] | core --ranges N").ConfigureAwait(false);
            return 2;
        }
        Arguments arguments;
        try
        {
            arguments = Arguments.Parse(args.AsSpan(1));
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
        try
        {
            if (args[0] == "core") return CoreCommand.Run(arguments.Int("ranges", 1000), arguments.Int("ticks", 3000));
            using var cluster = new ClusterClients(arguments.Endpoints);
            return args[0] switch
            {
                "ready" => await ReadyCommand.RunAsync(cluster, TimeSpan.FromSeconds(arguments.Int("timeout-s", 60))).ConfigureAwait(false),
                "split" => await SplitCommand.RunAsync(cluster, arguments.Int("count", 999), arguments.String("prefix", "r"),
                    arguments.Int("workers", 3)).ConfigureAwait(false),
                "verify" => await VerifyCommand.RunAsync(cluster, arguments.Int("ranges", 1000),
                    TimeSpan.FromSeconds(arguments.Int("timeout-s", 60))).ConfigureAwait(false),
                _ => Usage(args[0]),
            };
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
    }

    private static int Usage(string command)
    {
        Console.Error.WriteLine($"unknown command '{command}'; the commands are ready, split, verify, core");
        return 2;
    }
}
