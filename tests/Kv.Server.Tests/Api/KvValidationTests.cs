using Google.Protobuf;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>Every invalid request is INVALID_ARGUMENT with an InvalidArgument detail naming the field; nothing applies.</summary>
public sealed class KvValidationTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static ByteString Bytes(int length, byte fill = (byte)'x')
    {
        var b = new byte[length];
        Array.Fill(b, fill);
        return ByteString.CopyFrom(b);
    }

    public static TheoryData<string, string> Cases() => new()
    {
        { "get-empty-key", "key" },
        { "get-key-too-long", "key" },
        { "get-unknown-consistency", "consistency" },
        { "get-read-timestamp-without-snapshot", "read_timestamp" },
        { "put-empty-key", "key" },
        { "put-key-too-long", "key" },
        { "put-value-too-long", "value" },
        { "put-client-id-too-large", "write_id.client_id" },
        { "delete-empty-key", "key" },
        { "delete-key-too-long", "key" },
        { "cas-empty-key", "key" },
        { "cas-no-condition", "condition" },
        { "cas-expect-absent-false", "expect_absent" },
        { "cas-expected-version-zero", "expected_version" },
        { "cas-expected-value-too-long", "expected_value" },
        { "cas-new-value-too-long", "new_value" },
        { "scan-start-equals-end", "end_key" },
        { "scan-start-above-end", "end_key" },
        { "scan-start-too-long", "start_key" },
        { "scan-limit-too-large", "limit" },
        { "scan-unknown-consistency", "consistency" },
        { "batch-too-many-operations", "operations" },
        { "batch-empty-operation", "operations[0]" },
        { "batch-get-empty-key", "operations[1].get.key" },
        { "batch-delete-key-too-long", "operations[0].delete.key" },
        { "batch-put-value-too-long", "operations[0].put.value" },
    };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Cases))]
    public async Task InvalidRequest_IsInvalidArgument_NamingTheField(string name, string field)
    {
        int keyMax = _server.NodeOptions.KeyBytesMax;
        int valueMax = _server.NodeOptions.ValueBytesMax;
        var c = _server.Client;
        var deadline = KvTestServer.Deadline();
        Func<Task> call = name switch
        {
            "get-empty-key" => async () => await c.GetAsync(new Wire.GetRequest(), deadline: deadline),
            "get-key-too-long" => async () => await c.GetAsync(new Wire.GetRequest { Key = Bytes(keyMax + 1) }, deadline: deadline),
            "get-unknown-consistency" => async () =>
                await c.GetAsync(new Wire.GetRequest { Key = B("k"), Consistency = (Wire.ReadConsistency)7 }, deadline: deadline),
            "get-read-timestamp-without-snapshot" => async () =>
                await c.GetAsync(new Wire.GetRequest { Key = B("k"), ReadTimestamp = new Wire.Timestamp { WallNanos = 5 } }, deadline: deadline),
            "put-empty-key" => async () => await c.PutAsync(new Wire.PutRequest { Value = B("v") }, deadline: deadline),
            "put-key-too-long" => async () => await c.PutAsync(new Wire.PutRequest { Key = Bytes(keyMax + 1), Value = B("v") }, deadline: deadline),
            "put-value-too-long" => async () => await c.PutAsync(new Wire.PutRequest { Key = B("k"), Value = Bytes(valueMax + 1) }, deadline: deadline),
            "put-client-id-too-large" => async () => await c.PutAsync(new Wire.PutRequest
            {
                Key = B("k"), Value = B("v"), WriteId = new Wire.WriteId { ClientId = ulong.MaxValue, Sequence = 1 },
            }, deadline: deadline),
            "delete-empty-key" => async () => await c.DeleteAsync(new Wire.DeleteRequest(), deadline: deadline),
            "delete-key-too-long" => async () => await c.DeleteAsync(new Wire.DeleteRequest { Key = Bytes(keyMax + 1) }, deadline: deadline),
            "cas-empty-key" => async () => await c.CompareAndSetAsync(new Wire.CompareAndSetRequest { ExpectAbsent = true }, deadline: deadline),
            "cas-no-condition" => async () =>
                await c.CompareAndSetAsync(new Wire.CompareAndSetRequest { Key = B("k"), NewValue = B("v") }, deadline: deadline),
            "cas-expect-absent-false" => async () =>
                await c.CompareAndSetAsync(new Wire.CompareAndSetRequest { Key = B("k"), ExpectAbsent = false, NewValue = B("v") }, deadline: deadline),
            "cas-expected-version-zero" => async () => await c.CompareAndSetAsync(new Wire.CompareAndSetRequest
            {
                Key = B("k"), ExpectedVersion = new Wire.Timestamp(), NewValue = B("v"),
            }, deadline: deadline),
            "cas-expected-value-too-long" => async () => await c.CompareAndSetAsync(new Wire.CompareAndSetRequest
            {
                Key = B("k"), ExpectedValue = Bytes(valueMax + 1),
            }, deadline: deadline),
            "cas-new-value-too-long" => async () => await c.CompareAndSetAsync(new Wire.CompareAndSetRequest
            {
                Key = B("k"), ExpectAbsent = true, NewValue = Bytes(valueMax + 1),
            }, deadline: deadline),
            "scan-start-equals-end" => async () => await c.ScanAsync(new Wire.ScanRequest { StartKey = B("m"), EndKey = B("m") }, deadline: deadline),
            "scan-start-above-end" => async () => await c.ScanAsync(new Wire.ScanRequest { StartKey = B("n"), EndKey = B("m") }, deadline: deadline),
            "scan-start-too-long" => async () => await c.ScanAsync(new Wire.ScanRequest { StartKey = Bytes(keyMax + 2) }, deadline: deadline),
            "scan-limit-too-large" => async () => await c.ScanAsync(new Wire.ScanRequest { Limit = 10_001 }, deadline: deadline),
            "scan-unknown-consistency" => async () =>
                await c.ScanAsync(new Wire.ScanRequest { Consistency = (Wire.ReadConsistency)(-1) }, deadline: deadline),
            "batch-too-many-operations" => async () =>
            {
                var batch = new Wire.BatchRequest();
                for (int i = 0; i < 1_001; i++) batch.Operations.Add(new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("k") } });
                await c.BatchAsync(batch, deadline: deadline);
            },
            "batch-empty-operation" => async () =>
                await c.BatchAsync(new Wire.BatchRequest { Operations = { new Wire.BatchOperation() } }, deadline: deadline),
            "batch-get-empty-key" => async () => await c.BatchAsync(new Wire.BatchRequest
            {
                Operations =
                {
                    new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("k") } },
                    new Wire.BatchOperation { Get = new Wire.GetRequest() },
                },
            }, deadline: deadline),
            "batch-delete-key-too-long" => async () => await c.BatchAsync(new Wire.BatchRequest
            {
                Operations = { new Wire.BatchOperation { Delete = new Wire.DeleteRequest { Key = Bytes(keyMax + 1) } } },
            }, deadline: deadline),
            "batch-put-value-too-long" => async () => await c.BatchAsync(new Wire.BatchRequest
            {
                Operations = { new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("k"), Value = Bytes(valueMax + 1) } } },
            }, deadline: deadline),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such case"),
        };
        await KvAssert.InvalidArgumentAsync(field, call);

        // Nothing was written by any rejected request.
        var page = await c.ScanAsync(new Wire.ScanRequest(), deadline: KvTestServer.Deadline());
        Assert.Empty(page.Entries);
    }
}
