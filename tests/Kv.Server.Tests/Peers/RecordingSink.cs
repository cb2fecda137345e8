using Kv.Paxos;
using Kv.Server.Peers;

namespace Kv.Server.Tests.Peers;

/// <summary>Records every delivered message; optionally slow, to exercise back-pressure.</summary>
internal sealed class RecordingSink(TimeSpan? delayPerMessage = null) : IPeerMessageSink
{
    private readonly Lock _gate = new();
    private readonly List<Delivered> _delivered = [];

    public readonly record struct Delivered(ulong FromNode, ulong GroupId, PaxosMessage Message);

    public void Deliver(ulong fromNode, ulong groupId, PaxosMessage message)
    {
        // Blocking is the point: the sink stands for a replica inbox that cannot keep up.
        if (delayPerMessage is { } delay) Thread.Sleep(delay);
        lock (_gate) _delivered.Add(new Delivered(fromNode, groupId, message));
    }

    public int Count
    {
        get { lock (_gate) return _delivered.Count; }
    }

    public IReadOnlyList<Delivered> From(ulong fromNode)
    {
        lock (_gate) return _delivered.Where(d => d.FromNode == fromNode).ToArray();
    }
}
