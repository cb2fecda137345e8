using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.Server.Tests.Process;

/// <summary>
/// Admin steps on a <see cref="ClusterProcesses"/> that every workload needs: split the key space and wait until every
/// node routes by the new ranges, and learn which node leads each user range. Each step retries what a cluster in
/// the middle of an election answers (FAILED_PRECONDITION, UNAVAILABLE, DEADLINE_EXCEEDED) until its deadline.
/// </summary>
internal static class ClusterProcessesAdmin
{
    /// <summary>
    /// Splits at each key of <paramref name="splitKeys"/> in turn (through any running node) and waits until every
    /// running node lists a range starting at each; fails after <paramref name="within"/>.
    /// </summary>
    public static async Task SplitAsync(this ClusterProcesses cluster, IReadOnlyList<string> splitKeys, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        foreach (var key in splitKeys)
        {
            var split = new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) };
            await cluster.OnAnyRunningAsync(async id =>
            {
                try
                {
                    await cluster.Admin(id).SplitRangeAsync(split, deadline: CallDeadline(deadline));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && e.Status.Detail.Contains("already starts", StringComparison.Ordinal))
                {
                    // An earlier attempt split it, and its answer was lost.
                }
                return true;
            }, deadline);
        }
        foreach (int id in Running(cluster))
        {
            while (true)
            {
                var ranges = (await cluster.Admin(id).ListRangesAsync(new ListRangesRequest(), deadline: CallDeadline(deadline))).Ranges;
                var starts = ranges.Select(r => r.StartKey.ToStringUtf8()).ToHashSet(StringComparer.Ordinal);
                if (splitKeys.All(starts.Contains)) break;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"node {id} lists ranges starting at [{string.Join(", ", starts.Order(StringComparer.Ordinal))}], not all of [{string.Join(", ", splitKeys)}]");
                await Task.Delay(20);
            }
        }
    }

    /// <summary>
    /// The node that leads each user range starting at one of <paramref name="starts"/>, asked of every running node,
    /// once each of them has exactly one leader among those nodes; fails after <paramref name="within"/>.
    /// </summary>
    public static async Task<Dictionary<string, int>> RangeLeadersAsync(this ClusterProcesses cluster, IReadOnlyCollection<string> starts, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var claims = new List<(string Start, int Node)>();
            foreach (int id in Running(cluster))
            {
                try
                {
                    var status = await cluster.Admin(id).NodeStatusAsync(new NodeStatusRequest(), deadline: CallDeadline(deadline));
                    claims.AddRange(status.Replicas.Where(r => r.Range.RangeId >= Kv.Server.Ranges.RangeIds.FirstUser && r.IsLeader)
                        .Select(r => (r.Range.StartKey.ToStringUtf8(), id)));
                }
                catch (RpcException e) when (IsRetryable(e) && DateTime.UtcNow < deadline)
                {
                    // Killed or still starting: the next round asks again.
                }
            }
            var byRange = claims.Where(c => starts.Contains(c.Start)).GroupBy(c => c.Start).ToList();
            if (byRange.Count == starts.Count && byRange.All(g => g.Count() == 1)) return byRange.ToDictionary(g => g.Key, g => g.Single().Node);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no single leader for each range starting at ['{string.Join("', '", starts)}']: {string.Join(", ", claims)}");
            await Task.Delay(50);
        }
    }

    /// <summary>The node whose endpoint is <paramref name="endpoint"/> (as the SDK writes it), or null.</summary>
    public static int? NodeAt(this ClusterProcesses cluster, string? endpoint) =>
        endpoint is null ? null
        : ClusterProcesses.NodeIds.Cast<int?>().FirstOrDefault(id => string.Equals(cluster.Endpoint(id!.Value), endpoint.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    /// <summary>Tries the running nodes in turn until one serves the call (a non-leader answers FAILED_PRECONDITION).</summary>
    private static async Task<T> OnAnyRunningAsync<T>(this ClusterProcesses cluster, Func<int, Task<T>> call, DateTime deadline)
    {
        while (true)
        {
            foreach (int id in Running(cluster))
            {
                try
                {
                    return await call(id);
                }
                catch (RpcException e) when (IsRetryable(e) && DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(50);
        }
    }

    private static List<int> Running(ClusterProcesses cluster) => ClusterProcesses.NodeIds.Where(id => !cluster.Node(id).HasExited).ToList();

    /// <summary>One call's deadline: 5 s, or what is left of the step's.</summary>
    private static DateTime CallDeadline(DateTime deadline)
    {
        var fiveSeconds = DateTime.UtcNow.AddSeconds(5);
        return fiveSeconds < deadline ? fiveSeconds : deadline.AddMilliseconds(100);
    }

    private static bool IsRetryable(RpcException e) =>
        e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded;
}
