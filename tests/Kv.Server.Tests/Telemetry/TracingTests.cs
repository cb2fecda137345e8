using System.Diagnostics;
using Kv.Client;

namespace Kv.Server.Tests.Telemetry;

/// <summary>
/// One SDK put sent to a follower (which answers NotLeader) and then to the leader makes one trace: the client's
/// span, the API span on both nodes and the Paxos proposal on the leader share its trace id, because gRPC carries
/// the W3C traceparent.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class TracingTests(TelemetryClusterFixture fixture)
{
    [Fact(Timeout = 60_000)]
    public async Task ClientPut_ViaAFollower_IsOneTraceAcrossClientFollowerAndLeader()
    {
        using var recorder = new SpanRecorder();
        int leader = Enumerable.Range(1, 3).Single(n => fixture.Cluster.Node(n).Host.Status(2).IsLeader);
        int follower = leader % 3 + 1;
        await using var client = new KvClient([fixture.Cluster.Endpoint(follower).ToString()]);

        await client.PutAsync("traced-key", "v");

        var put = Assert.Single(recorder.Ended, a => a.Source.Name == KvClientTracing.SourceName && a.DisplayName == "kv.client.Put");
        // ASP.NET Core's server spans end once a response is written, which may be after the client has it.
        await recorder.WaitAsync(e => e.Count(a => a.TraceId == put.TraceId && a.Kind == ActivityKind.Server) >= 2, TimeSpan.FromSeconds(10));
        var trace = recorder.Trace(put.TraceId);
        var apiNodes = trace.Where(a => a.Source.Name == Kv.Server.Telemetry.KvTracing.SourceName && a.DisplayName == "kv.v1.Kv/Put")
            .Select(a => a.NodeId()).Order().ToArray();
        Assert.Equal(new[] { leader, follower }.Order(), apiNodes);
        // The follower's replica refuses the proposal (NotLeader); the leader's proposes it.
        var proposal = Assert.Single(trace, a => a.DisplayName == "paxos.propose" && a.NodeId() == leader);
        Assert.Equal(2UL, proposal.GetTagItem("kv.range_id"));
        // Two attempts, at the follower and then at the leader, each reaching the node as a server span (HttpClient
        // puts an unrecorded span of its own between an attempt and the server span, so they are matched by trace).
        var attempts = trace.Where(a => a.Kind == ActivityKind.Client && a.Source.Name == KvClientTracing.SourceName)
            .OrderBy(a => a.StartTimeUtc).Select(a => (string)a.GetTagItem("server.address")!).ToArray();
        Assert.Equal(new[] { Endpoint(follower), Endpoint(leader) }, attempts);
        // Each API span is the child of the server span ASP.NET Core opened from the call's traceparent.
        Assert.All(trace.Where(a => a.DisplayName == "kv.v1.Kv/Put"),
            api => Assert.Contains(trace, s => s.Kind == ActivityKind.Server && s.SpanId == api.ParentSpanId));
    }

    private string Endpoint(int node) => fixture.Cluster.Endpoint(node).ToString().TrimEnd('/');

    [Fact(Timeout = 60_000)]
    public async Task TransactionCommit_AtAFollower_IsForwardedToTheLeaderInTheSameTrace()
    {
        using var recorder = new SpanRecorder();
        using var test = new ActivitySource(SpanRecorder.TestSourceName);
        int leader = Enumerable.Range(1, 3).Single(n => fixture.Cluster.Node(n).Host.Status(2).IsLeader);
        int follower = leader % 3 + 1;
        var txn = await Kv.Server.Tests.Txn.TxnDriver.BeginAsync(fixture.Cluster, node: follower);
        txn.Put("traced-txn", "v");
        ActivityTraceId traceId;
        using (var root = test.StartActivity("test commit"))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            Assert.NotNull(await txn.CommitAsync(Kv.Proto.V1.CommitProtocol.Paxos, node: follower));
        }

        var trace = recorder.Trace(traceId);
        Assert.Contains(trace, a => a.DisplayName == "kv.v1.Transactions/Commit" && a.NodeId() == follower);
        // The coordinator on the follower forwards the range's commands to the leader, whose proposal joins the trace.
        Assert.Contains(trace, a => a.DisplayName == "kv.forward" && a.NodeId() == follower);
        Assert.Contains(trace, a => a.DisplayName == "paxos.propose" && a.NodeId() == leader);
    }
}
