using System.Diagnostics;
using Google.Protobuf;
using Kv.Server.Tests.Node;
using Kv.Server.Tests.Telemetry;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// The critical path of a 2-range commit (docs/transactions.md, "Critical path"): the coordinator leads the home range
/// and sends the other range's stage straight to that range's leader, which it knows, rather than proposing it to its
/// own replica first and following the NotLeader answer (a pass through its replica loop, 0.1–1.5 ms under load).
/// Seen in the commit's trace: a refused proposal on the coordinator is a <c>paxos.propose</c> span there.
/// In the tracing collection: a span listener is process-wide.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class CommitRoutingTests
{
    [Theory(Timeout = 120_000)]
    [MemberData(nameof(TransactionTests.Protocols), MemberType = typeof(TransactionTests))]
    public async Task StageOfARangeLedElsewhere_GoesStraightToItsLeader(Wire.CommitProtocol protocol)
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["n"]);
        var ranges = (await cluster.Admin(1).ListRangesAsync(new Wire.ListRangesRequest())).Ranges;
        ulong home = ranges.Single(r => r.StartKey.IsEmpty && r.RangeId != 1).RangeId;
        ulong other = ranges.Single(r => r.StartKey == ByteString.CopyFromUtf8("n")).RangeId;
        // Node 1 coordinates and leads the home range; node 2 leads the other one, and node 1 knows it.
        await LeadAsync(cluster, home, node: 1);
        await LeadAsync(cluster, other, node: 2);

        using var recorder = new SpanRecorder();
        using var test = new ActivitySource(SpanRecorder.TestSourceName);
        var txn = await TxnDriver.BeginAsync(cluster, node: 1);
        txn.Put("a", "home");
        txn.Put("p", "other");
        ActivityTraceId traceId;
        using (var root = test.StartActivity("test commit"))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            Assert.NotNull(await txn.CommitAsync(protocol, node: 1));
        }

        bool Proposed(Activity a, int node, ulong range) => a.DisplayName == "paxos.propose" && a.NodeId() == node && (ulong)a.RangeId() == range;
        var trace = (await recorder.WaitAsync(e => e.Any(a => a.TraceId == traceId && Proposed(a, 2, other)), TimeSpan.FromSeconds(10)))
            .Where(a => a.TraceId == traceId).ToArray();
        // The other range's stage was proposed (and chosen) at its leader, and the home range's here.
        Assert.Contains(trace, a => Proposed(a, 2, other) && a.Status != ActivityStatusCode.Error);
        Assert.Contains(trace, a => Proposed(a, 1, home) && a.Status != ActivityStatusCode.Error);
        // ... and never at the coordinator's own replica of the other range (which would have refused it: NotLeader).
        Assert.DoesNotContain(trace, a => Proposed(a, 1, other));
        Assert.Equal("other", (await cluster.GetAsync("p")).Value.ToStringUtf8());
    }

    /// <summary>Moves the range's leadership to <paramref name="node"/> and waits until every node knows it (bounded).</summary>
    private static async Task LeadAsync(InProcessCluster cluster, ulong rangeId, int node)
    {
        await cluster.Admin(node).TransferLeaderAsync(new Wire.TransferLeaderRequest { RangeId = rangeId, NodeId = (ulong)node },
            deadline: DateTime.UtcNow.AddSeconds(20));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Enumerable.Range(1, 3).All(n => cluster.Node(n).Host.Status(rangeId).LeaderHint == node))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not every node knows node {node} leads range {rangeId} after 20 s");
            await Task.Delay(20);
        }
    }
}
