using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Paxos;
using Kv.Server.Peers;
using Kv.Server.Tests.Api;
using static Kv.Server.Tests.Peers.PeerTestMessages;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

/// <summary>
/// Bad input on the peer stream. A message that does not decode is skipped and the rest of its batch delivered; a
/// frame that is not a batch ends that one stream with an error status; a batch for another node is refused. In
/// every case the node's range (node 1 of <see cref="KvTestServer"/>, whose port also serves the peer stream) still
/// commits writes afterwards, and a correct peer stream is still served.
/// </summary>
public sealed class PeerMalformedFrameTests
{
    private const string StreamPath = "/kv.v1.Peer/Stream";

    [Fact(Timeout = 30_000)]
    public async Task UndecodableMessages_AreSkipped_TheRestOfTheBatchDeliveredInOrder()
    {
        var sink = new RecordingSink();
        var server = await PeerTestServer.StartAsync(2, sink);
        try
        {
            using var channel = GrpcChannel.ForAddress(server.Endpoint);
            using var call = new Wire.Peer.PeerClient(channel).Stream(deadline: DateTime.UtcNow.AddSeconds(20));
            var unknownKind = PaxosMessageCodec.ToProto(10, Numbered(5)); // an Accept
            unknownKind.Accept.Slots[0].Value.Kind = (Wire.SlotValue.Types.Kind)9;
            var negativeFrom = PaxosMessageCodec.ToProto(10, Numbered(6));
            negativeFrom.From = -1;
            var batch = new Wire.PeerBatch
            {
                FromNode = 1,
                ToNode = 2,
                Messages =
                {
                    PaxosMessageCodec.ToProto(10, Numbered(1)),
                    FutureBodyType(group: 10),
                    PaxosMessageCodec.ToProto(10, Numbered(2)),
                    unknownKind,
                    PaxosMessageCodec.ToProto(10, Numbered(3)),
                    negativeFrom,
                    PaxosMessageCodec.ToProto(10, Numbered(4)),
                },
            };

            await call.RequestStream.WriteAsync(batch);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(1UL, call.ResponseStream.Current.BatchesReceived);
            // The stream goes on.
            await call.RequestStream.WriteAsync(new Wire.PeerBatch { FromNode = 1, ToNode = 2, Messages = { PaxosMessageCodec.ToProto(10, Numbered(7)) } });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(2UL, call.ResponseStream.Current.BatchesReceived);
            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));

            Assert.Equal([1L, 2L, 3L, 4L, 7L], sink.From(1).Select(d => Number(d.Message)));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    public static TheoryData<string, StatusCode, string> BadFrames() => new()
    {
        // A correct batch, then a frame whose prefix claims 100 bytes more than the stream carries before it ends.
        { "truncated-frame", StatusCode.Internal, "Incomplete message" },
        // A correct batch, then bytes that are not a PeerBatch (field number 0 is never valid protobuf).
        { "garbage-batch", StatusCode.Internal, "is not a valid PeerBatch" },
        // A correct batch, then a frame larger than the server's receive limit (only its prefix is sent).
        { "frame-over-receive-limit", StatusCode.ResourceExhausted, "exceeds the maximum configured message size" },
        // A correct batch, then a batch addressed to node 7.
        { "batch-for-another-node", StatusCode.FailedPrecondition, "This is node 1, not node 7" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BadFrames))]
    public async Task BadFrame_EndsThatStreamWithAStatus_AfterAcknowledgingWhatCameBefore_AndTheNodeServesOn(string name, StatusCode expected, string messageHas)
    {
        await using var server = await KvTestServer.StartAsync();
        await PutAndGetAsync(server, "before", "v0");
        var good = RawGrpc.Frame(HarmlessBatch(toNode: 1));
        byte[] bad = name switch
        {
            "truncated-frame" => RawGrpc.Frame(HarmlessBatch(toNode: 1).ToByteArray(), declaredLength: (uint)HarmlessBatch(toNode: 1).CalculateSize() + 100),
            "garbage-batch" => RawGrpc.Frame([0x00, 0x01, 0x02]),
            "frame-over-receive-limit" => RawGrpc.Frame([], declaredLength: (uint)server.ReceiveBytesMax + 1),
            "batch-for-another-node" => RawGrpc.Frame(HarmlessBatch(toNode: 7)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
        };

        var reply = await RawGrpc.CallAsync(server.Endpoint, StreamPath, [.. good, .. bad]);

        Assert.True(reply.Code == expected, $"{name}: expected {expected}, got {reply.Code}: {reply.Message}");
        Assert.Contains(messageHas, reply.Message, StringComparison.Ordinal);
        var acks = RawGrpc.Messages(reply.Body, Wire.PeerBatchAck.Parser);
        Assert.Equal([1UL], acks.Select(a => a.BatchesReceived));

        await AssertServesAsync(server, name);
    }

    [Fact(Timeout = 60_000)]
    public async Task MessagesForAGroupNotHostedHere_OrAnotherReplica_AreAcknowledgedAndIgnored()
    {
        await using var server = await KvTestServer.StartAsync();
        await PutAndGetAsync(server, "before", "v0");
        var batch = new Wire.PeerBatch
        {
            FromNode = 2,
            ToNode = 1,
            Messages =
            {
                PaxosMessageCodec.ToProto(99, new Heartbeat(2, 1, new Ballot(1_000, 2), 1, 0, 0)),
                PaxosMessageCodec.ToProto(KvTestServer.RangeId, new Heartbeat(2, 5, new Ballot(1_000, 2), 1, 0, 0)),
            },
        };

        var reply = await RawGrpc.CallAsync(server.Endpoint, StreamPath, RawGrpc.Frame(batch));

        Assert.Equal(StatusCode.OK, reply.Code);
        Assert.Equal([1UL], RawGrpc.Messages(reply.Body, Wire.PeerBatchAck.Parser).Select(a => a.BatchesReceived));
        Assert.True(server.Host.Status(KvTestServer.RangeId).IsLeader, "a message for another replica moved node 1");
        await AssertServesAsync(server, "other-group");
    }

    /// <summary>A message whose body is field 99 of the oneof: a type this node does not know (a newer peer).</summary>
    private static Wire.PaxosMessage FutureBodyType(ulong group)
    {
        var known = PaxosMessageCodec.ToProto(group, Numbered(1));
        known.ClearBody();
        using var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        known.WriteTo(output);
        output.WriteTag(99, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFromUtf8("from the future"));
        output.Flush();
        return Wire.PaxosMessage.Parser.ParseFrom(bytes.ToArray());
    }

    /// <summary>A batch from node 2 whose one message is for a group node 1 does not host: harmless to deliver.</summary>
    private static Wire.PeerBatch HarmlessBatch(ulong toNode) => new()
    {
        FromNode = 2,
        ToNode = toNode,
        Messages = { PaxosMessageCodec.ToProto(4242, new Heartbeat(2, 1, new Ballot(1, 2), 1, 0, 0)) },
    };

    private static async Task PutAndGetAsync(KvTestServer server, string key, string value)
    {
        var put = await server.Client.PutAsync(
            new Wire.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, deadline: KvTestServer.Deadline());
        var get = await server.Client.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: KvTestServer.Deadline());
        Assert.Equal(value, get.Value.ToStringUtf8());
        Assert.Equal(put.Version, get.Version);
    }

    /// <summary>
    /// The key written first is intact, the range commits a new write, and a correct peer stream is served (its batch
    /// acknowledged).
    /// </summary>
    private static async Task AssertServesAsync(KvTestServer server, string name)
    {
        var before = await server.Client.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8("before") }, deadline: KvTestServer.Deadline());
        Assert.True(before.Found, $"{name}: the key written before was lost");
        Assert.Equal("v0", before.Value.ToStringUtf8());
        await PutAndGetAsync(server, "after/" + name, "v1");

        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        using var call = new Wire.Peer.PeerClient(channel).Stream(deadline: DateTime.UtcNow.AddSeconds(10));
        await call.RequestStream.WriteAsync(HarmlessBatch(toNode: 1));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(1UL, call.ResponseStream.Current.BatchesReceived);
        await call.RequestStream.CompleteAsync();
    }
}
