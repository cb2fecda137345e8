using Google.Protobuf;
using Kv.Server.Api;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>Pages and batches stay within the API's byte limits.</summary>
public sealed class KvScanLimitsTests : IAsyncLifetime
{
    private static readonly KvApiLimits Limits = new() { ScanResponseBytesMax = 1_000, BatchResponseBytesMax = 1_000, ScanLimitDefault = 7 };
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync(limits: Limits);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private async Task PutAsync(string key, int valueBytes) =>
        await _server.Client.PutAsync(new Wire.PutRequest { Key = B(key), Value = ByteString.CopyFrom(new byte[valueBytes]) },
            deadline: KvTestServer.Deadline());

    [Fact(Timeout = 30_000)]
    public async Task ScanPage_StopsAtTheByteLimit_AndResumesAfterItsLastKey()
    {
        for (int i = 0; i < 10; i++) await PutAsync($"big/{i}", 300);
        var seen = new List<string>();
        var request = new Wire.ScanRequest { StartKey = B("big/"), EndKey = B("big0") };
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 10, "paging does not end");
            var page = await _server.Client.ScanAsync(request, deadline: KvTestServer.Deadline());
            Assert.InRange(page.Entries.Count, 1, 3); // 3 × 305 bytes fit in 1,000; a 4th does not
            seen.AddRange(page.Entries.Select(e => e.Key.ToStringUtf8()));
            if (page.ResumeKey.IsEmpty) break;
            request.StartKey = page.ResumeKey;
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"big/{i}"), seen);
    }

    [Fact(Timeout = 30_000)]
    public async Task ScanPage_AlwaysHoldsOneEntry_EvenOneLargerThanTheByteLimit()
    {
        await PutAsync("huge/a", 5_000);
        await PutAsync("huge/b", 5_000);
        var page = await _server.Client.ScanAsync(new Wire.ScanRequest { StartKey = B("huge/"), EndKey = B("huge0") }, deadline: KvTestServer.Deadline());
        Assert.Single(page.Entries);
        Assert.False(page.ResumeKey.IsEmpty);
    }

    [Fact(Timeout = 30_000)]
    public async Task ScanWithoutLimit_UsesTheDefaultPageSize()
    {
        for (int i = 0; i < 9; i++) await PutAsync($"d/{i}", 1);
        var page = await _server.Client.ScanAsync(new Wire.ScanRequest { StartKey = B("d/"), EndKey = B("d0") }, deadline: KvTestServer.Deadline());
        Assert.Equal(7, page.Entries.Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task BatchGets_BeyondTheResponseByteLimit_AreResourceExhausted_NamingTheOperation()
    {
        await PutAsync("bg/a", 600);
        await PutAsync("bg/b", 600);
        var status = await KvAssert.FailsWithAsync(Grpc.Core.StatusCode.ResourceExhausted, async () => await _server.Client.BatchAsync(
            new Wire.BatchRequest
            {
                Operations =
                {
                    new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("bg/a") } },
                    new Wire.BatchOperation { Get = new Wire.GetRequest { Key = B("bg/b") } },
                },
            }, deadline: KvTestServer.Deadline()));
        Assert.StartsWith("operations[1]", status.Message, StringComparison.Ordinal);
    }
}
