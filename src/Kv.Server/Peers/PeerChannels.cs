using System.Collections.Concurrent;
using Grpc.Net.Client;
using Kv.Server.Ranges;

namespace Kv.Server.Peers;

/// <summary>
/// One gRPC channel per other node for node-to-node unary calls (forwarded proposals, range data), created on
/// first use from the <see cref="NodeAddressBook"/>. The Paxos message stream has its own connections
/// (<see cref="PeerTransport"/>) so that bulk calls never queue behind, or ahead of, heartbeats.
/// </summary>
public sealed class PeerChannels(NodeAddressBook addresses) : IDisposable
{
    private readonly ConcurrentDictionary<ulong, GrpcChannel> _channels = new();

    /// <summary>The channel to a node, or null when its address is unknown.</summary>
    public GrpcChannel? For(ulong nodeId)
    {
        if (_channels.TryGetValue(nodeId, out var channel)) return channel;
        var endpoint = addresses.Find(nodeId);
        if (endpoint is null) return null;
        return _channels.GetOrAdd(nodeId, _ => GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = 64 << 20,
            MaxSendMessageSize = 64 << 20,
        }));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var c in _channels.Values) c.Dispose();
        _channels.Clear();
    }
}
