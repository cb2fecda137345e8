namespace Kv.Server.Peers;

/// <summary>
/// This node's id, registered in DI so that <see cref="PeerService"/> can refuse batches meant for another node
/// (a sender whose address book is stale). Optional: without it, every batch is accepted.
/// </summary>
/// <param name="NodeId">The local node id.</param>
public sealed record PeerLocalNode(ulong NodeId);
