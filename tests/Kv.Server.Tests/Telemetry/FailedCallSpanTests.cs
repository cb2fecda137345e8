using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kv.Client;

namespace Kv.Server.Tests.Telemetry;

/// <summary>A failed call's spans say so: status Error, with the gRPC status or the error's kind as tags.</summary>
[Collection(TracingCollection.Name)]
public sealed class FailedCallSpanTests(TelemetryClusterFixture fixture)
{
    [Fact(Timeout = 60_000)]
    public async Task RefusedPut_MarksTheNodesApiSpanAsAnError()
    {
        using var recorder = new SpanRecorder();
        using var test = new ActivitySource(SpanRecorder.TestSourceName);
        ActivityTraceId traceId;
        using (var root = test.StartActivity("empty key"))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            var refused = await Assert.ThrowsAsync<RpcException>(() => fixture.Cluster.Kv(1).PutAsync(
                new Kv.Proto.V1.PutRequest { Key = ByteString.Empty, Value = ByteString.CopyFromUtf8("v") }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }

        var api = Assert.Single(recorder.Trace(traceId), a => a.DisplayName == "kv.v1.Kv/Put");
        Assert.Equal(ActivityStatusCode.Error, api.Status);
        Assert.Equal((int)StatusCode.InvalidArgument, api.GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(nameof(StatusCode.InvalidArgument), api.GetTagItem("error.type"));
        Assert.Contains("key", api.StatusDescription, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task SuccessfulPut_LeavesItsSpansUnmarked()
    {
        using var recorder = new SpanRecorder();
        await using var client = new KvClient([fixture.Cluster.Endpoint(1).ToString(), fixture.Cluster.Endpoint(2).ToString(), fixture.Cluster.Endpoint(3).ToString()]);

        await client.PutAsync("unmarked", "v");

        var put = Assert.Single(recorder.Ended, a => a.DisplayName == "kv.client.Put");
        Assert.Equal(ActivityStatusCode.Unset, put.Status);
        Assert.Contains(recorder.Trace(put.TraceId), a => a.DisplayName == "paxos.propose" && a.Status == ActivityStatusCode.Unset);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientCall_ToANodeThatIsNotThere_MarksTheAttemptAndTheOperationAsErrors()
    {
        using var recorder = new SpanRecorder();
        int closedPort = Kv.Server.Tests.Node.InProcessCluster.FreePorts(1)[0];
        await using var client = new KvClient([$"http://127.0.0.1:{closedPort}"],
            new KvClientOptions { RetryAttemptsMax = 0, PerCallTimeout = TimeSpan.FromSeconds(5) });

        await Assert.ThrowsAnyAsync<KvException>(() => client.GetAsync("k"));

        var operation = Assert.Single(recorder.Ended, a => a.DisplayName == "kv.client.Get");
        Assert.Equal(ActivityStatusCode.Error, operation.Status);
        Assert.NotNull(operation.GetTagItem("error.type"));
        var attempt = Assert.Single(recorder.Trace(operation.TraceId), a => a.DisplayName == "kv.client.Get attempt");
        Assert.Equal(ActivityStatusCode.Error, attempt.Status);
        Assert.Equal((int)StatusCode.Unavailable, attempt.GetTagItem("rpc.grpc.status_code"));
    }
}
