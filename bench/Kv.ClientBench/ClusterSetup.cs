using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Client;
using Kv.Proto.V1;

namespace Kv.ClientBench;

/// <summary>
/// Before anything is measured: waits for the cluster, writes the one value, and finds the node that leads the
/// key's range. Uses its own channels and client, all disposed before the measurement starts.
/// </summary>
internal static class ClusterSetup
{
    /// <summary>Puts <paramref name="value"/> under <paramref name="key"/>, retrying until the cluster accepts it.</summary>
    /// <exception cref="TimeoutException">No put succeeded within <paramref name="timeout"/>.</exception>
    public static async Task WriteValueAsync(IReadOnlyList<string> endpoints, byte[] key, byte[] value, TimeSpan timeout)
    {
        await using var client = new KvClient(endpoints, new KvClientOptions { OverallDeadline = TimeSpan.FromSeconds(10) });
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.PutAsync(key, value).ConfigureAwait(false);
                return;
            }
            catch (KvException e) when (clock.Elapsed < timeout)
            {
                Console.Error.WriteLine($"[setup] put not accepted yet ({e.Code}); retrying");
                await Task.Delay(500).ConfigureAwait(false);
            }
            catch (KvException e)
            {
                throw new TimeoutException($"the cluster did not accept a put within {timeout.TotalSeconds:0} s: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// The endpoint of the node that leads the range of <paramref name="key"/>: the one whose <c>NodeStatus</c> says
    /// it leads the replica holding the key, confirmed by a raw Get there that returns the value (no NotLeader).
    /// Falls back to a Get at each node in turn. Retries until <paramref name="timeout"/>: a new leader may not
    /// hold its lease yet.
    /// </summary>
    /// <exception cref="TimeoutException">No node served the key within <paramref name="timeout"/>.</exception>
    public static async Task<(string Endpoint, string How)> FindLeaderAsync(
        IReadOnlyList<string> endpoints, byte[] key, int valueBytes, TimeSpan timeout)
    {
        var channels = endpoints.Select(e => GrpcChannel.ForAddress(e)).ToArray();
        try
        {
            var clock = Stopwatch.StartNew();
            string last = "";
            while (clock.Elapsed < timeout)
            {
                for (int i = 0; i < channels.Length; i++)
                {
                    try
                    {
                        var status = await new Admin.AdminClient(channels[i]).NodeStatusAsync(new NodeStatusRequest(),
                            deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync.ConfigureAwait(false);
                        bool leads = status.Replicas.Any(r => r.IsLeader && Holds(r.Range, key));
                        if (leads && await ServesAsync(channels[i], key, valueBytes).ConfigureAwait(false))
                            return (endpoints[i], $"Admin.NodeStatus of node {status.NodeId} (is_leader for the key's range), confirmed by a Get");
                    }
                    catch (RpcException e)
                    {
                        last = $"{endpoints[i]}: {e.StatusCode} {e.Status.Detail}";
                    }
                }
                for (int i = 0; i < channels.Length; i++)
                {
                    if (await ServesAsync(channels[i], key, valueBytes).ConfigureAwait(false))
                        return (endpoints[i], "a Get at each node in turn (the first that did not answer NotLeader)");
                }
                await Task.Delay(250).ConfigureAwait(false);
            }
            throw new TimeoutException($"no node served the key within {timeout.TotalSeconds:0} s (last error: {last})");
        }
        finally
        {
            foreach (var c in channels) c.Dispose();
        }
    }

    private static bool Holds(RangeDescriptor range, byte[] key) =>
        range.StartKey.Span.SequenceCompareTo(key) <= 0 && (range.EndKey.IsEmpty || ((ReadOnlySpan<byte>)key).SequenceCompareTo(range.EndKey.Span) < 0);

    private static async Task<bool> ServesAsync(GrpcChannel channel, byte[] key, int valueBytes)
    {
        try
        {
            var response = await new Proto.V1.Kv.KvClient(channel).GetAsync(new GetRequest { Key = ByteString.CopyFrom(key) },
                deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync.ConfigureAwait(false);
            if (!response.Found || response.Value.Length != valueBytes)
                throw new InvalidOperationException($"the key read back {(response.Found ? $"{response.Value.Length} bytes" : "absent")}, not {valueBytes} bytes");
            return true;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            return false;
        }
    }
}
