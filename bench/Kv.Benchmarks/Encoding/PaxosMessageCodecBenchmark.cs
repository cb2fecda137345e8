using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Kv.Paxos;
using Kv.Server.Peers;
using Wire = Kv.Proto.V1;

namespace Kv.Benchmarks.Encoding;

/// <summary>
/// The peer wire format of Paxos messages (<see cref="PaxosMessageCodec"/> plus protobuf bytes): an Accept carrying
/// <see cref="Slots"/> slots of one 64-byte command each (the leader's hot message), and a Heartbeat. Encode is the
/// core's record to bytes; decode is bytes back to a validated record. Per message.
/// </summary>
[MemoryDiagnoser]
public class PaxosMessageCodecBenchmark
{
    private Accept _accept = null!;
    private byte[] _acceptBytes = [];
    private Heartbeat _heartbeat = null!;
    private byte[] _heartbeatBytes = [];

    /// <summary>Slots in the Accept: 1 (a lone write) or 64 (a full pipeline window).</summary>
    [Params(1, 64)]
    public int Slots { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var ballot = new Ballot(7, 1);
        var slots = new ProposedSlot[Slots];
        for (int s = 0; s < Slots; s++)
        {
            var payload = new byte[64];
            random.NextBytes(payload);
            slots[s] = new ProposedSlot(1_000 + s, SlotValue.OfCommands([new Command(42, s + 1, payload)]));
        }
        _accept = new Accept(1, 2, ballot, slots, TenureStart: 900, ChosenBelow: 999);
        _acceptBytes = PaxosMessageCodec.ToProto(17, _accept).ToByteArray();
        _heartbeat = new Heartbeat(1, 2, ballot, Sequence: 12_345, TenureStart: 900, ChosenBelow: 999);
        _heartbeatBytes = PaxosMessageCodec.ToProto(17, _heartbeat).ToByteArray();
    }

    [Benchmark]
    public byte[] EncodeAccept() => PaxosMessageCodec.ToProto(17, _accept).ToByteArray();

    [Benchmark]
    public PaxosMessage DecodeAccept() => PaxosMessageCodec.FromProto(Wire.PaxosMessage.Parser.ParseFrom(_acceptBytes)).Message;

    [Benchmark]
    public byte[] EncodeHeartbeat() => PaxosMessageCodec.ToProto(17, _heartbeat).ToByteArray();

    [Benchmark]
    public PaxosMessage DecodeHeartbeat() => PaxosMessageCodec.FromProto(Wire.PaxosMessage.Parser.ParseFrom(_heartbeatBytes)).Message;
}
