using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;
using static Kv.Server.Tests.Peers.RangeDataTestStore;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

/// <summary>The serving side, driven by a raw gRPC client so that it can be sent what RangeDataClient never sends.</summary>
public sealed class RangeDataServiceTests : IDisposable
{
    private readonly RangeDataTestStore _source = new();

    public void Dispose() => _source.Dispose();

    public static TheoryData<string, string, string, uint?, string> InvalidRequests => new()
    {
        { "start above end", "c", "b", null, "end_key" },
        { "start equal to end", "b", "b", null, "end_key" },
        { "start key too long", new string('k', MvccStore.UserKeyBytesMax + 1), "", null, "start_key" },
        { "end key too long", "a", new string('k', MvccStore.UserKeyBytesMax + 1), null, "end_key" },
        { "chunk hint below the minimum", "b", "d", 63, "chunk_bytes_max" },
        { "chunk hint above the maximum", "b", "d", 64 * 1024 + 1, "chunk_bytes_max" },
        { "chunk hint zero", "b", "d", 0, "chunk_bytes_max" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(InvalidRequests))]
    public async Task AnInvalidRequest_IsInvalidArgument_NamingTheField(string why, string start, string end, uint? chunkBytesMax, string field)
    {
        _source.Put("source", 100, "b", "c");
        var hostsEverything = new HostedRangesSource((1, RangeSpan.All));
        await using var server = await RangeDataTestServer.StartAsync(_source.Store, hostsEverything);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        var request = new Wire.RangeDataRequest { RangeId = 1, StartKey = ByteString.CopyFromUtf8(start), EndKey = ByteString.CopyFromUtf8(end) };
        if (chunkBytesMax is { } hint) request.ChunkBytesMax = hint;

        using var call = new Wire.RangeData.RangeDataClient(channel).Fetch(request);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{why}: {error.Status}");
        Assert.StartsWith(field + ":", error.Status.Detail);
        Assert.Equal(0, hostsEverything.Checks); // refused before asking whether the range is here
    }

    [Fact(Timeout = 30_000)]
    public async Task AValidRequest_StreamsNumberedChunks_WithValidChecksums_EndingInOneLastChunk()
    {
        _source.Put("source", 100, "a", "b", "ba", "bb", "bc", "c", "d");
        await using var server = await RangeDataTestServer.StartAsync(_source.Store, new HostedRangesSource((1, RangeSpan.All)));
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        var request = new Wire.RangeDataRequest { RangeId = 1, StartKey = ByteString.CopyFromUtf8("b"), EndKey = ByteString.CopyFromUtf8("d"), ChunkBytesMax = 64 };

        using var call = new Wire.RangeData.RangeDataClient(channel).Fetch(request);
        var chunks = new List<RangeSnapshotChunk>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
            chunks.Add(Kv.Server.Peers.RangeDataChunkMapper.FromProto(call.ResponseStream.Current));

        Assert.True(chunks.Count > 2);
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        Assert.All(chunks, c => Assert.True(c.HasValidChecksum));
        Assert.Equal([chunks[^1]], chunks.Where(c => c.IsLast));
        Assert.Equal(_source.Dump(new RangeSpan(Bytes("b"), Bytes("d"))),
            chunks.SelectMany(c => c.Pairs).Select(p => $"{Convert.ToHexString(p.Key)}={Convert.ToHexString(p.Value)}"));
    }
}
