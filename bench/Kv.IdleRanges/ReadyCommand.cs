using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.IdleRanges;

/// <summary>Waits until every node's Admin API answers and a put succeeds (so the range has a leader).</summary>
internal static class ReadyCommand
{
    public static async Task<int> RunAsync(ClusterClients cluster, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + within;
        string lastError = "nothing tried";
        foreach (int node in cluster.NodeIds)
        {
            while (true)
            {
                try
                {
                    await cluster.Admin(node).NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
                    break;
                }
                catch (RpcException e) when (DateTime.UtcNow < deadline)
                {
                    lastError = $"node {node} admin: {e.Status.StatusCode} {e.Status.Detail}";
                    await Task.Delay(200).ConfigureAwait(false);
                }
            }
        }
        // Any node may lead the first range: a non-leader answers FAILED_PRECONDITION, so try each in turn.
        for (int attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            int node = attempt % cluster.Endpoints.Count + 1;
            try
            {
                await cluster.Kv(node).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("_idle-bench/ready"), Value = ByteString.CopyFromUtf8("1") },
                    deadline: DateTime.UtcNow.AddSeconds(5)).ConfigureAwait(false);
                Console.Error.WriteLine($"cluster ready after {clock.Elapsed.TotalSeconds:F1} s (put served by node {node})");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready_s={clock.Elapsed.TotalSeconds:F1}"));
                return 0;
            }
            catch (RpcException e)
            {
                lastError = $"put via node {node}: {e.Status.StatusCode} {e.Status.Detail}";
                await Task.Delay(200).ConfigureAwait(false);
            }
        }
        Console.Error.WriteLine($"cluster not ready within {within.TotalSeconds} s; last error: {lastError}");
        return 1;
    }
}
