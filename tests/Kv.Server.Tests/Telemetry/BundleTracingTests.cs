using System.Diagnostics;
using Google.Protobuf;
using Kv.Server.Tests.Api;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Telemetry;

/// <summary>A Bundle call's operations are traced under their own requests' traces, not the bundle call's.</summary>
[Collection(TracingCollection.Name)]
public sealed class BundleTracingTests : IAsyncLifetime
{
    private KvTestServer _server = null!;

    public async Task InitializeAsync() => _server = await KvTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact(Timeout = 30_000)]
    public async Task EachTracedOperation_ProposesInItsOwnTrace()
    {
        using var recorder = new SpanRecorder();
        var first = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var second = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var request = new Wire.BundleRequest
        {
            Operations =
            {
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = ByteString.CopyFromUtf8("traced/1"), Value = ByteString.CopyFromUtf8("a") } },
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = ByteString.CopyFromUtf8("untraced"), Value = ByteString.CopyFromUtf8("b") } },
                new Wire.BatchOperation { Put = new Wire.PutRequest { Key = ByteString.CopyFromUtf8("traced/2"), Value = ByteString.CopyFromUtf8("c") } },
            },
            TraceParents = { W3C(first), "", W3C(second) },
        };

        await _server.Client.BundleAsync(request, deadline: KvTestServer.Deadline());

        foreach (var parent in new[] { first, second })
        {
            await recorder.WaitAsync(ended => ended.Any(a => a.TraceId == parent.TraceId && a.DisplayName == "paxos.propose"), TimeSpan.FromSeconds(10));
            var trace = recorder.Trace(parent.TraceId);
            var call = Assert.Single(trace, a => a.DisplayName == "kv.v1.Kv/Put");
            Assert.Equal(parent.SpanId, call.ParentSpanId);
            var proposal = Assert.Single(trace, a => a.DisplayName == "paxos.propose");
            Assert.Equal(call.SpanId, proposal.ParentSpanId);
            Assert.DoesNotContain(trace, a => a.DisplayName == "kv.v1.Kv/Bundle"); // the call itself is in neither
        }
    }

    private static string W3C(ActivityContext context) => $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-01";
}
