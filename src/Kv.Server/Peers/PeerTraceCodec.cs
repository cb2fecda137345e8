using Kv.Server.Telemetry;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// The wire form of the trace contexts carried next to a Paxos message (<c>PaxosMessage.trace</c>). Decoding does not
/// validate the traceparents: a malformed one only means no span (the receiver's parse fails), never a lost message.
/// </summary>
internal static class PeerTraceCodec
{
    public static Wire.PeerTrace ToProto(IReadOnlyList<TracedSlot> traces)
    {
        var wire = new Wire.PeerTrace();
        foreach (var t in traces) wire.Slots.Add(new Wire.SlotTrace { Slot = t.Slot, Traceparent = t.TraceParent });
        return wire;
    }

    public static IReadOnlyList<TracedSlot> FromProto(Wire.PeerTrace wire)
    {
        var traces = new TracedSlot[wire.Slots.Count];
        for (int i = 0; i < traces.Length; i++) traces[i] = new TracedSlot(wire.Slots[i].Slot, wire.Slots[i].Traceparent);
        return traces;
    }
}
