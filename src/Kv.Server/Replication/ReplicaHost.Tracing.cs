using Kv.Paxos;
using Kv.Server.Telemetry;

namespace Kv.Server.Replication;

/// <summary>
/// Traces across replicas (docs/observability.md): a sampled proposal's traceparent leaves with the Accepts that carry
/// its slot, each follower opens a <c>paxos.accept</c> span for it until its Accepted reply leaves, and the leader
/// records each acknowledgement and the choice as events on <c>paxos.propose</c>. The Paxos core knows nothing of it:
/// the host matches commands to slots in the Readies. Without a sampled proposal in flight nothing here runs.
/// </summary>
public sealed partial class ReplicaHost
{
    // Set when a follower span opens; the loop ends the round's open ones after its Readies are handled.
    private bool _acceptSpansOpen;

    /// <summary>Sends a replica's message, with the trace contexts of traced slots when it is such an Accept.</summary>
    private void Send(HostedRange range, PaxosMessage message)
    {
        var traces = range.Traces;
        if (traces is null)
        {
            _sender.Send((ulong)message.To, range.RangeId, message);
            return;
        }
        if (message is Accept accept && traces.TracedSlotsOf(accept) is { } traced)
        {
            _sender.SendTraced((ulong)message.To, range.RangeId, message, traced);
            return;
        }
        _sender.Send((ulong)message.To, range.RangeId, message);
        if (message is Accepted accepted) traces.Replied(accepted);
    }

    /// <summary>A peer's message for a range with traces: a traced Accept here, or an acknowledgement of a traced slot.</summary>
    private void TraceDelivered(HostedRange range, PeerMessageEvent m)
    {
        switch (m.Message)
        {
            case Accept accept when m.Traces is { Count: > 0 } traced:
                var traces = range.Traces ??= new RangeTraces(range.RangeId, _nodeId);
                traces.AcceptArrived(accept, traced);
                _acceptSpansOpen |= traces.HasOpenAccepts;
                if (traces.IsEmpty) range.Traces = null; // no span opened (nobody listens here)
                break;
            case Accepted accepted:
                range.Traces?.Acknowledged(accepted);
                break;
        }
    }

    /// <summary>A Ready of a range with traces is durable: acknowledgement and choice events, and cleanup.</summary>
    private static void TraceDurable(HostedRange range, Ready ready)
    {
        range.Traces!.Durable(ready);
        if (range.Traces.IsEmpty) range.Traces = null;
    }

    /// <summary>Ends follower spans whose Accept was not answered in this round (refused or dropped).</summary>
    private void EndAcceptSpans(IEnumerable<HostedRange> touched)
    {
        _acceptSpansOpen = false;
        foreach (var range in touched)
        {
            if (range.Traces is not { HasOpenAccepts: true } traces) continue;
            traces.EndRound();
            if (traces.IsEmpty) range.Traces = null;
        }
    }
}
