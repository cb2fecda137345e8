namespace Kv.Server.Telemetry;

/// <summary>
/// A slot of a traced proposal and the W3C traceparent of its <c>paxos.propose</c> span on the leader: what the peer
/// transport carries next to an Accept (<c>PaxosMessage.trace</c> in peer.proto) so that each follower's
/// <c>paxos.accept</c> span joins the request's trace.
/// </summary>
/// <param name="Slot">The log slot the proposal's command was placed in.</param>
/// <param name="TraceParent">The leader span's id in W3C traceparent form.</param>
public readonly record struct TracedSlot(long Slot, string TraceParent);
