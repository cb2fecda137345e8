using Google.Protobuf;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>
/// The invalid requests <see cref="KvValidationTests"/> leaves out, one per method and limit: each is INVALID_ARGUMENT
/// whose message names the field and, for a size, the size and the limit; nothing applies, and the range still
/// commits writes afterwards.
/// </summary>
public sealed class KvBadRequestTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static ByteString Bytes(int length) => ByteString.CopyFrom(new byte[length]);

    private static Wire.BatchRequest Batch(Wire.BatchOperation op) => new() { Operations = { op } };

    /// <summary>Case name, the field the detail must name, and what its reason must say (empty: anything).</summary>
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "cas-key-too-long", "key", "4097 bytes; at most 4096" },
        { "scan-end-too-long", "end_key", "4098 bytes; at most 4097" },
        { "scan-reverse-start-above-end", "end_key", "must be above start_key" },
        { "scan-limit-uint-max", "limit", "4294967295; at most 10000" },
        { "batch-put-key-too-long", "operations[0].put.key", "4097 bytes; at most 4096" },
        { "batch-get-key-too-long", "operations[0].get.key", "4097 bytes; at most 4096" },
        { "batch-delete-empty-key", "operations[0].delete.key", "must not be empty" },
        { "delete-sequence-too-large", "write_id.sequence", "at most 9223372036854775807" },
        // Under the server's receive limit but over Kestrel's default body limit (30,000,000 bytes).
        { "put-value-of-30-mb", "value", "30000000 bytes; at most 4194304" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Cases))]
    public async Task InvalidRequest_IsInvalidArgument_WhoseMessageNamesTheProblem_AndTheRangeCommitsOn(
        string name, string field, string reasonHas)
    {
        var c = _server.Client;
        var deadline = KvTestServer.Deadline();
        var tooLongKey = Bytes(_server.NodeOptions.KeyBytesMax + 1);
        Func<Task> call = name switch
        {
            "cas-key-too-long" => async () =>
                await c.CompareAndSetAsync(new Wire.CompareAndSetRequest { Key = tooLongKey, ExpectAbsent = true, NewValue = B("v") }, deadline: deadline),
            "scan-end-too-long" => async () =>
                await c.ScanAsync(new Wire.ScanRequest { EndKey = Bytes(_server.NodeOptions.KeyBytesMax + 2) }, deadline: deadline),
            "scan-reverse-start-above-end" => async () =>
                await c.ScanAsync(new Wire.ScanRequest { StartKey = B("n"), EndKey = B("m"), Reverse = true }, deadline: deadline),
            "scan-limit-uint-max" => async () => await c.ScanAsync(new Wire.ScanRequest { Limit = uint.MaxValue }, deadline: deadline),
            "batch-put-key-too-long" => async () =>
                await c.BatchAsync(Batch(new() { Put = new Wire.PutRequest { Key = tooLongKey, Value = B("v") } }), deadline: deadline),
            "batch-get-key-too-long" => async () =>
                await c.BatchAsync(Batch(new() { Get = new Wire.GetRequest { Key = tooLongKey } }), deadline: deadline),
            "batch-delete-empty-key" => async () =>
                await c.BatchAsync(Batch(new() { Delete = new Wire.DeleteRequest() }), deadline: deadline),
            "delete-sequence-too-large" => async () => await c.DeleteAsync(new Wire.DeleteRequest
            {
                Key = B("k"), WriteId = new Wire.WriteId { ClientId = 1, Sequence = ulong.MaxValue },
            }, deadline: deadline),
            "put-value-of-30-mb" => async () =>
                await c.PutAsync(new Wire.PutRequest { Key = B("k"), Value = Bytes(30_000_000) }, deadline: KvTestServer.Deadline(30)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
        };

        var status = await KvAssert.FailsWithAsync(Grpc.Core.StatusCode.InvalidArgument, call);
        var detail = status.GetDetail<Wire.InvalidArgument>();
        Assert.NotNull(detail);
        Assert.Equal(field, detail.Field);
        Assert.Contains(reasonHas, detail.Reason, StringComparison.Ordinal);
        Assert.Equal($"{field}: {detail.Reason}", status.Message);

        // Nothing applied.
        var page = await c.ScanAsync(new Wire.ScanRequest(), deadline: KvTestServer.Deadline());
        Assert.Empty(page.Entries);
        // The range is not wedged.
        var put = await c.PutAsync(new Wire.PutRequest { Key = B("after"), Value = B(name) }, deadline: KvTestServer.Deadline());
        var get = await c.GetAsync(new Wire.GetRequest { Key = B("after") }, deadline: KvTestServer.Deadline());
        Assert.Equal(name, get.Value.ToStringUtf8());
        Assert.Equal(put.Version, get.Version);
    }
}
