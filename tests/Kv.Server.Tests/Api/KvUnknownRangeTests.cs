using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Api;
using Kv.Storage.Mvcc;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>
/// A key whose range this node does not host (the locator routes it to range 99, which the node never had, as
/// after a move): every method answers FAILED_PRECONDITION with a RangeMoved detail, so that a client refreshes
/// its descriptor and goes elsewhere; range 1 keeps serving.
/// </summary>
public sealed class KvUnknownRangeTests : IAsyncLifetime
{
    internal const ulong ElsewhereRangeId = 99;
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync(locator: local => new SplitLocator(local));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    public static TheoryData<string> Methods() => ["get", "put", "delete", "cas", "scan", "scan-reverse", "batch"];

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Methods))]
    public async Task KeyOfARangeNotHostedHere_IsRangeMoved_AndTheHostedRangeServesOn(string method)
    {
        var c = _server.Client;
        var deadline = KvTestServer.Deadline();
        await c.PutAsync(new Wire.PutRequest { Key = B("home"), Value = B("v0") }, deadline: deadline);
        Func<Task> call = method switch
        {
            "get" => async () => await c.GetAsync(new Wire.GetRequest { Key = B("z") }, deadline: deadline),
            "put" => async () => await c.PutAsync(new Wire.PutRequest { Key = B("z"), Value = B("v") }, deadline: deadline),
            "delete" => async () => await c.DeleteAsync(new Wire.DeleteRequest { Key = B("z") }, deadline: deadline),
            "cas" => async () => await c.CompareAndSetAsync(new Wire.CompareAndSetRequest { Key = B("z"), ExpectAbsent = true, NewValue = B("v") },
                deadline: deadline),
            "scan" => async () => await c.ScanAsync(new Wire.ScanRequest { StartKey = B("x") }, deadline: deadline),
            "scan-reverse" => async () => await c.ScanAsync(new Wire.ScanRequest { EndKey = B("z"), Reverse = true }, deadline: deadline),
            "batch" => async () => await c.BatchAsync(new Wire.BatchRequest
            {
                Operations = { new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("z"), Value = B("v") } } },
            }, deadline: deadline),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "no such case"),
        };

        var status = await KvAssert.FailsWithAsync(StatusCode.FailedPrecondition, call);
        var moved = status.GetDetail<Wire.RangeMoved>();
        Assert.NotNull(moved);
        Assert.Equal(ElsewhereRangeId, moved.Descriptor_.RangeId);
        Assert.Contains($"{ElsewhereRangeId}", status.Message, StringComparison.Ordinal);

        await AssertRangeOneServesAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task Batch_StopsAtTheFirstOperationOnARangeNotHostedHere_WithThoseBeforeItApplied()
    {
        var status = await KvAssert.FailsWithAsync(StatusCode.FailedPrecondition, async () => await _server.Client.BatchAsync(new Wire.BatchRequest
        {
            Operations =
            {
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("a"), Value = B("1") } },
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("z"), Value = B("2") } },
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("b"), Value = B("3") } },
            },
        }, deadline: KvTestServer.Deadline()));
        Assert.NotNull(status.GetDetail<Wire.RangeMoved>());
        Assert.StartsWith("operations[1] failed (1 operation(s) before it were applied", status.Message, StringComparison.Ordinal);
        var page = await _server.Client.ScanAsync(new Wire.ScanRequest(), deadline: KvTestServer.Deadline());
        Assert.Equal(["a"], page.Entries.Select(e => e.Key.ToStringUtf8()));
        await AssertRangeOneServesAsync();
    }

    private async Task AssertRangeOneServesAsync()
    {
        var c = _server.Client;
        var put = await c.PutAsync(new Wire.PutRequest { Key = B("home"), Value = B("v1") }, deadline: KvTestServer.Deadline());
        var get = await c.GetAsync(new Wire.GetRequest { Key = B("home") }, deadline: KvTestServer.Deadline());
        Assert.Equal("v1", get.Value.ToStringUtf8());
        Assert.Equal(put.Version, get.Version);
    }

    /// <summary>Range 1 holds keys below "m" (here); range 99 holds the rest and lives on other nodes only.</summary>
    internal sealed class SplitLocator(IRangeLocator local) : IRangeLocator
    {
        private static readonly byte[] Split = "m"u8.ToArray();

        private readonly RangeRoute _here = local.Locate([]) with { Span = new KeySpan([], Split) };
        private readonly RangeRoute _elsewhere = new(ElsewhereRangeId, new KeySpan(Split, null), Generation: 1,
            [new RangeReplica(2, "http://node-2.invalid:7100"), new RangeReplica(3, "http://node-3.invalid:7100")]);

        public RangeRoute Locate(ReadOnlySpan<byte> key) => key.SequenceCompareTo(Split) < 0 ? _here : _elsewhere;

        public RangeRoute LocateBefore(ReadOnlySpan<byte> end) => end.SequenceCompareTo(Split) <= 0 ? _here : _elsewhere;
    }
}
