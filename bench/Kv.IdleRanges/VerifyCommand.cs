using System.Diagnostics;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.IdleRanges;

/// <summary>
/// Checks, until it holds or time runs out, that the meta range lists the expected number of contiguous user
/// ranges, that every node hosts a replica of each, and that each has exactly one leader that its followers know.
/// Prints how many ranges (and the meta range) each node leads, since leaders do more work when idle.
/// </summary>
internal static class VerifyCommand
{
    private const ulong MetaRangeId = 1;

    public static async Task<int> RunAsync(ClusterClients cluster, int expectedRanges, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + within;
        string problem;
        while (true)
        {
            try
            {
                var ranges = (await cluster.Admin(1).ListRangesAsync(new ListRangesRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ConfigureAwait(false)).Ranges;
                var statuses = new Dictionary<int, NodeStatusResponse>();
                foreach (int node in cluster.NodeIds)
                    statuses[node] = await cluster.Admin(node).NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ConfigureAwait(false);
                var check = ClusterCheck.Run(ranges, statuses, expectedRanges, MetaRangeId);
                if (check.Problem is null)
                {
                    Console.Error.WriteLine($"verified after {clock.Elapsed.TotalSeconds:F1} s: {ranges.Count} user ranges on {statuses.Count} nodes, each with one leader");
                    foreach (var line in check.Findings) Console.WriteLine(line);
                    return 0;
                }
                problem = check.Problem;
            }
            catch (RpcException e)
            {
                problem = $"{e.Status.StatusCode} {e.Status.Detail}";
            }
            if (DateTime.UtcNow >= deadline) break;
            Console.Error.WriteLine($"  not yet: {problem}");
            await Task.Delay(250).ConfigureAwait(false);
        }
        Console.Error.WriteLine($"verification failed after {within.TotalSeconds} s: {problem}");
        return 1;
    }
}
