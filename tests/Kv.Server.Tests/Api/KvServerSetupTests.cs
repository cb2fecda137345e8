using Grpc.AspNetCore.Server;
using Kv.Server.Api;
using Kv.Server.Configuration;

namespace Kv.Server.Tests.Api;

public sealed class KvServerSetupTests
{
    [Fact]
    public void ConfigureGrpc_RaisesTheReceiveLimit_AboveAMaximalKeyAndValue()
    {
        var node = new NodeOptions();
        var unset = new GrpcServiceOptions();
        KvServerSetup.ConfigureGrpc(unset, node);
        Assert.True(unset.MaxReceiveMessageSize > node.KeyBytesMax + node.ValueBytesMax + 1024);

        var grpcDefault = new GrpcServiceOptions { MaxReceiveMessageSize = 4 * 1024 * 1024 };
        KvServerSetup.ConfigureGrpc(grpcDefault, node);
        // Peer streams share the server-wide limit, so it also covers the largest Paxos message.
        Assert.Equal(Math.Max(KvServerSetup.RequestBytesMax(node), new Kv.Server.Peers.PeerTransportOptions().MessageBytesMax + 64 * 1024),
            grpcDefault.MaxReceiveMessageSize);
    }

    [Fact]
    public void ConfigureGrpc_NeverLowersALargerLimit()
    {
        var larger = new GrpcServiceOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 };
        KvServerSetup.ConfigureGrpc(larger, new NodeOptions());
        Assert.Equal(64 * 1024 * 1024, larger.MaxReceiveMessageSize);
    }
}
