using Grpc.Core;
using Grpc.Net.Client;
using Kv.Server.Configuration;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Node;

/// <summary>
/// `dev`: a 3-node cluster in one process on 127.0.0.1, each node with its own RocksDB directory under
/// <c>./data</c>. Initialised on first start, kept across restarts; Ctrl-C (or SIGTERM) stops it cleanly.
/// </summary>
public static class DevCluster
{
    /// <summary>Runs until cancelled; prints <c>client endpoints: URL,URL,URL</c> once the cluster serves.</summary>
    public static async Task<int> RunAsync(string dataRoot, int basePort, CancellationToken cancellationToken)
    {
        var peers = Enumerable.Range(1, 3).Select(i => new PeerEndpoint(i, new Uri($"http://127.0.0.1:{basePort + i}"))).ToList();
        var nodes = new List<KvNode>();
        try
        {
            foreach (var peer in peers)
            {
                var options = new NodeOptions
                {
                    NodeId = peer.NodeId,
                    Listen = peer.Url,
                    Peers = peers,
                    DataDirectory = Path.Combine(dataRoot, $"node-{peer.NodeId}"),
                    ElectionTimeoutTicks = 30,
                    HeartbeatIntervalTicks = 5,
                };
                nodes.Add(await KvNode.StartAsync(options, l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning), cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"node {peer.NodeId} listening on {peer.Url} (data: {options.DataDirectory})");
            }
            await WaitUntilServingAsync(peers, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"client endpoints: {string.Join(",", peers.Select(p => p.Url.ToString().TrimEnd('/')))}");
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Console.Error.WriteLine("stopping…");
            foreach (var node in nodes) await node.DisposeAsync().ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>Writes and reads a probe key until some node answers both: then the cluster serves requests.</summary>
    private static async Task WaitUntilServingAsync(IReadOnlyList<PeerEndpoint> peers, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            foreach (var peer in peers)
            {
                using var channel = GrpcChannel.ForAddress(peer.Url);
                var client = new Kv.Proto.V1.Kv.KvClient(channel);
                try
                {
                    var key = Google.Protobuf.ByteString.CopyFromUtf8("\u0001kv/dev/probe");
                    await client.PutAsync(new Kv.Proto.V1.PutRequest { Key = key, Value = Google.Protobuf.ByteString.CopyFromUtf8("ok") },
                        deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
                    await client.GetAsync(new Kv.Proto.V1.GetRequest { Key = key }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    // Not the leader, or no leader yet: try the next node.
                }
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
