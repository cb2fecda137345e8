using System.Diagnostics;
using Google.Protobuf;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>
/// Node 1 of a range whose voters are [1, 2], with node 2 absent: no quorum, no leader, ever. Every request must
/// come back quickly as FAILED_PRECONDITION with a NotLeader detail that knows no leader.
/// </summary>
public sealed class KvNotLeaderTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync(KvTestTopology.VotersWithAbsentPeer);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact(Timeout = 30_000)]
    public async Task EveryRequest_WithoutALeader_IsFailedPrecondition_WithNotLeader_LeaderUnknown()
    {
        // Let election timeouts pass: node 1 campaigns and gets no quorum.
        await Task.Delay(200);
        Assert.False(_server.Host.Status(KvTestServer.RangeId).IsLeader);
        var c = _server.Client;
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("get", async () => await c.GetAsync(new Wire.GetRequest { Key = B("k") }, deadline: KvTestServer.Deadline(5))),
            ("put", async () => await c.PutAsync(new Wire.PutRequest { Key = B("k"), Value = B("v") }, deadline: KvTestServer.Deadline(5))),
            ("delete", async () => await c.DeleteAsync(new Wire.DeleteRequest { Key = B("k") }, deadline: KvTestServer.Deadline(5))),
            ("cas", async () => await c.CompareAndSetAsync(
                new Wire.CompareAndSetRequest { Key = B("k"), ExpectAbsent = true, NewValue = B("v") }, deadline: KvTestServer.Deadline(5))),
            ("scan", async () => await c.ScanAsync(new Wire.ScanRequest(), deadline: KvTestServer.Deadline(5))),
            ("batch", async () => await c.BatchAsync(new Wire.BatchRequest
            {
                Operations = { new Wire.BatchOperation { Put = new Wire.PutRequest { Key = B("k"), Value = B("v") } } },
            }, deadline: KvTestServer.Deadline(5))),
        };
        foreach (var (name, call) in calls)
        {
            var watch = Stopwatch.StartNew();
            var detail = await KvAssert.NotLeaderAsync(call);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"{name} took {watch.Elapsed}");
            Assert.Equal(KvTestServer.RangeId, detail.RangeId);
            Assert.Equal(0UL, detail.LeaderNodeId);
            Assert.Equal("", detail.LeaderEndpoint);
        }
    }
}
