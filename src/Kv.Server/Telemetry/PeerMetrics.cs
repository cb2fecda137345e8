using System.Diagnostics.Metrics;
using Kv.Server.Peers;

namespace Kv.Server.Telemetry;

/// <summary>
/// The peer transport's counters as instruments on the meter <see cref="ReplicaMetrics.MeterName"/>, read from
/// <see cref="PeerTransport.GetStats()"/> when an exporter collects; tagged <c>peer_node</c> (one series per other
/// node, so bounded by the cluster's size).
/// </summary>
public sealed class PeerMetrics
{
    /// <summary>Creates the instruments over <paramref name="peers"/>.</summary>
    public PeerMetrics(IMeterFactory meterFactory, Func<IReadOnlyList<PeerStats>> peers)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(peers);
        var meter = meterFactory.Create(ReplicaMetrics.MeterName);
        meter.CreateObservableCounter("kv.peer.messages.sent", () => PerPeer(peers, p => p.MessagesSent), "{message}",
            "Paxos messages written to the stream to a peer node.");
        meter.CreateObservableCounter("kv.peer.messages.dropped", () => PerPeer(peers, p => p.MessagesDropped), "{message}",
            "Paxos messages given up for a peer node: queue full, too large, or in a batch whose write failed.");
        meter.CreateObservableCounter("kv.peer.reconnects", () => PerPeer(peers, p => p.Reconnects), "{stream}",
            "Streams to a peer node opened after an earlier one failed.");
        meter.CreateObservableGauge("kv.peer.queue.messages", () => PerPeer(peers, p => p.MessagesQueued), "{message}",
            "Messages waiting in the outbound queue to a peer node (at most PeerTransportOptions.OutboundMessagesMax).");
    }

    private static IEnumerable<Measurement<long>> PerPeer(Func<IReadOnlyList<PeerStats>> peers, Func<PeerStats, long> value) =>
        peers().Select(p => new Measurement<long>(value(p), new KeyValuePair<string, object?>("peer_node", p.NodeId)));
}
