namespace Kv.Server.Peers;

/// <summary>The peer said it is stopping (<c>PeerBatchAck.going_away</c>): its stream ends in order, not by a failure.</summary>
internal sealed class PeerGoingAwayException(ulong nodeId) : IOException($"Node {nodeId} is stopping.");
