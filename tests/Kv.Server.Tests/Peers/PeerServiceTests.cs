using Grpc.Net.Client;
using Kv.Paxos;
using Kv.Server.Peers;
using static Kv.Server.Tests.Peers.PeerTestMessages;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

/// <summary>The receiving side, driven by a raw gRPC client so that it can be fed what a correct sender never sends.</summary>
public sealed class PeerServiceTests
{
    [Fact(Timeout = 30_000)]
    public async Task MalformedMessageOrFailingSink_IsSkipped_TheRestDelivered_AndTheBatchAcknowledged()
    {
        var sink = new ThrowingOnGroupSink(throwOnGroup: 13);
        var server = await PeerTestServer.StartAsync(2, sink);
        try
        {
            using var channel = GrpcChannel.ForAddress(server.Endpoint);
            using var call = new Wire.Peer.PeerClient(channel).Stream();
            var batch = new Wire.PeerBatch { FromNode = 1, ToNode = 2 };
            batch.Messages.Add(PaxosMessageCodec.ToProto(10, Numbered(1)));
            var malformed = PaxosMessageCodec.ToProto(11, Numbered(2));
            malformed.ClearBody();
            batch.Messages.Add(malformed);
            batch.Messages.Add(PaxosMessageCodec.ToProto(13, Numbered(3)));
            batch.Messages.Add(PaxosMessageCodec.ToProto(12, Numbered(4)));

            await call.RequestStream.WriteAsync(batch);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(1UL, call.ResponseStream.Current.BatchesReceived);

            await call.RequestStream.WriteAsync(new Wire.PeerBatch { FromNode = 1, ToNode = 2, Messages = { PaxosMessageCodec.ToProto(10, Numbered(5)) } });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(2UL, call.ResponseStream.Current.BatchesReceived);
            await call.RequestStream.CompleteAsync();

            Assert.Equal([(10UL, 1L), (12UL, 4L), (10UL, 5L)], sink.Delivered.Select(d => (d.GroupId, Number(d.Message))));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private sealed class ThrowingOnGroupSink(ulong throwOnGroup) : IPeerMessageSink
    {
        public List<RecordingSink.Delivered> Delivered { get; } = [];

        public void Deliver(ulong fromNode, ulong groupId, PaxosMessage message)
        {
            if (groupId == throwOnGroup) throw new InvalidOperationException("the replica of this group is broken");
            lock (Delivered) Delivered.Add(new RecordingSink.Delivered(fromNode, groupId, message));
        }
    }
}
