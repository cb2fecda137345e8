using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Peers;

/// <summary>
/// Sends Paxos messages to other nodes (one per node). Each remote node gets a bounded outbound queue and one
/// long-lived gRPC stream that carries batches of messages of every group the two nodes share, with at most
/// <see cref="PeerTransportOptions.UnackedBatchesMax"/> batches unacknowledged. <see cref="Send"/> never blocks:
/// when a peer's queue is full the message is dropped and counted, which Paxos tolerates (docs/peer-transport.md).
/// </summary>
public sealed class PeerTransport : IAsyncDisposable, Kv.Server.Replication.IPeerSender
{
    private readonly Func<ulong, Uri?> _resolveEndpoint;
    private readonly PeerTransportOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, PeerConnection> _peers = new();
    private readonly Lock _lifecycle = new();
    private bool _disposed;

    /// <summary>Creates the transport of node <paramref name="selfNodeId"/>; streams open on first use.</summary>
    /// <param name="selfNodeId">This node's id, stamped on every batch.</param>
    /// <param name="resolveEndpoint">
    /// The address (<c>http://host:port</c>) of a node, or null when unknown. Asked again before every connection
    /// attempt, so that a node that moved is found.
    /// </param>
    /// <param name="options">The limits.</param>
    /// <param name="logger">Where stream failures and drops are logged.</param>
    public PeerTransport(ulong selfNodeId, Func<ulong, Uri?> resolveEndpoint, PeerTransportOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(resolveEndpoint);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        SelfNodeId = selfNodeId;
        _resolveEndpoint = resolveEndpoint;
        _options = options;
        _logger = logger;
    }

    /// <summary>This node's id.</summary>
    public ulong SelfNodeId { get; }

    /// <summary>
    /// Queues <paramref name="message"/> of group <paramref name="groupId"/> for node <paramref name="toNode"/>
    /// without blocking. Messages to one node are sent in the order queued. Returns false, counting a drop, when
    /// that node's queue is full or the transport is disposed.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="toNode"/> is this node: local delivery is the host's.</exception>
    public bool Send(ulong toNode, ulong groupId, Kv.Paxos.PaxosMessage message) => Enqueue(toNode, groupId, message, null);

    /// <summary>
    /// As <see cref="Send"/>, with the trace contexts of the traced slots the message carries: they travel next to it
    /// (<c>PaxosMessage.trace</c>), for the receiver's spans.
    /// </summary>
    public bool SendTraced(ulong toNode, ulong groupId, Kv.Paxos.PaxosMessage message, IReadOnlyList<Telemetry.TracedSlot> traces) =>
        Enqueue(toNode, groupId, message, DropsTraceContexts ? null : traces);

    private bool Enqueue(ulong toNode, ulong groupId, Kv.Paxos.PaxosMessage message, IReadOnlyList<Telemetry.TracedSlot>? traces)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (toNode == SelfNodeId) throw new ArgumentException($"Node {toNode} is this node; deliver locally.", nameof(toNode));
        if (!_peers.TryGetValue(toNode, out var peer))
        {
            peer = AddPeer(toNode);
            if (peer is null) return false;
        }
        return peer.TryEnqueue(groupId, message, traces);
    }

    /// <summary>
    /// Test hook, the broken variant the tracing tests must catch: send traced messages without their trace contexts
    /// (followers' work then falls out of the request's trace).
    /// </summary>
    internal bool DropsTraceContexts { get; set; }

    /// <summary>Node <paramref name="nodeId"/> opened a stream to this node: a connection waiting to retry it retries now.</summary>
    public void PeerHeard(ulong nodeId)
    {
        if (_peers.TryGetValue(nodeId, out var peer)) peer.PeerHeard();
    }

    /// <summary>The counters of node <paramref name="nodeId"/>, or null if nothing was ever sent to it.</summary>
    public PeerStats? GetStats(ulong nodeId) => _peers.TryGetValue(nodeId, out var peer) ? peer.Stats() : null;

    /// <summary>The counters of every node sent to, by node id.</summary>
    public IReadOnlyList<PeerStats> GetStats() => _peers.Values.Select(p => p.Stats()).OrderBy(s => s.NodeId).ToArray();

    private PeerConnection? AddPeer(ulong nodeId)
    {
        // Rare (once per remote node), so a lock keeps creation and disposal simple: no loop starts after disposal.
        lock (_lifecycle)
        {
            if (_disposed) return null;
            if (_peers.TryGetValue(nodeId, out var existing)) return existing;
            var peer = new PeerConnection(SelfNodeId, nodeId, _resolveEndpoint, _options, _logger);
            _peers[nodeId] = peer;
            peer.Start();
            return peer;
        }
    }

    /// <summary>Stops every sender loop and closes the streams; queued messages are discarded.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lifecycle)
        {
            if (_disposed) return;
            _disposed = true;
        }
        await Task.WhenAll(_peers.Values.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
