using Kv.Paxos;

namespace Kv.Server.Replication;

/// <summary>Sends a Paxos message of a group to another node; may drop it (Paxos tolerates loss).</summary>
public interface IPeerSender
{
    /// <summary>Queues the message; false when it was dropped.</summary>
    bool Send(ulong toNode, ulong groupId, PaxosMessage message);
}
