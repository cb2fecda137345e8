using Kv.Paxos;

namespace Kv.Server.Replication;

/// <summary>Sends a Paxos message of a group to another node; may drop it (Paxos tolerates loss).</summary>
public interface IPeerSender
{
    /// <summary>Queues the message; false when it was dropped.</summary>
    bool Send(ulong toNode, ulong groupId, PaxosMessage message);

    /// <summary>
    /// Queues a message with the trace contexts of the traced slots it carries (a leader's Accept), for the receiver's
    /// spans. A sender that carries no traces sends the message alone.
    /// </summary>
    bool SendTraced(ulong toNode, ulong groupId, PaxosMessage message, IReadOnlyList<Telemetry.TracedSlot> traces) => Send(toNode, groupId, message);
}
