namespace Kv.Server.Peers;

/// <summary>
/// Where <see cref="PeerService"/> hands each received Paxos message: the node's router to its replicas.
/// Registered in DI as a singleton.
/// </summary>
public interface IPeerMessageSink
{
    /// <summary>
    /// Takes one message for group <paramref name="groupId"/> from node <paramref name="fromNode"/>. Called on the
    /// receiving stream's thread, in the order the sender sent; the next batch is acknowledged only after this
    /// returns for every message of the batch, so a slow sink slows its senders (back-pressure). A sink that must
    /// not block should enqueue (into a bounded queue, dropping when full) and return.
    /// </summary>
    void Deliver(ulong fromNode, ulong groupId, Kv.Paxos.PaxosMessage message);

    /// <summary>
    /// As above, with the trace contexts the sender carried next to the message (traced slots of an Accept). A sink
    /// that records no spans takes the message alone.
    /// </summary>
    void DeliverTraced(ulong fromNode, ulong groupId, Kv.Paxos.PaxosMessage message, IReadOnlyList<Telemetry.TracedSlot> traces) =>
        Deliver(fromNode, groupId, message);
}
