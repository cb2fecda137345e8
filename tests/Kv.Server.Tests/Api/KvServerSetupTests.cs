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

    [Fact]
    public void ConfigureGrpc_GuardsEveryCompressionProvider_OnceAndWhicheverRunsFirst()
    {
        // gRPC's own setup may run before this callback (providers present) or after it (none yet).
        var afterGrpc = new GrpcServiceOptions();
        afterGrpc.CompressionProviders.Add(new Grpc.Net.Compression.GzipCompressionProvider(System.IO.Compression.CompressionLevel.Fastest));
        KvServerSetup.ConfigureGrpc(afterGrpc, new NodeOptions());
        KvServerSetup.ConfigureGrpc(afterGrpc, new NodeOptions());
        var gzip = Assert.IsType<CorruptCompressionGuard>(Assert.Single(afterGrpc.CompressionProviders));
        Assert.IsType<Grpc.Net.Compression.GzipCompressionProvider>(gzip.Inner);

        var beforeGrpc = new GrpcServiceOptions();
        KvServerSetup.ConfigureGrpc(beforeGrpc, new NodeOptions());
        Assert.Equal(["gzip", "deflate"], beforeGrpc.CompressionProviders.Select(p => p.EncodingName));
        Assert.All(beforeGrpc.CompressionProviders, p => Assert.IsType<CorruptCompressionGuard>(p));
    }
}
