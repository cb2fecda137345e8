using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Server.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Node;

/// <summary>A node joining a running cluster with <c>--join</c>, and a node that is not initialised yet.</summary>
public sealed class JoinTests
{
    [Fact(Timeout = 90_000)]
    public async Task NewNode_Joins_LearnsEveryRange_AndRedirectsClientsToTheReplicas()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await cluster.Admin(1).SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8("m") });
        await cluster.PutAsync("k", "v");
        var node4 = await cluster.StartJoinerAsync(4, [cluster.Endpoint(2)]);
        try
        {
            using var channel = GrpcChannel.ForAddress(node4.Options.Listen);
            var admin = new Wire.Admin.AdminClient(channel);
            // The meta range's snapshot brings the directory: both user ranges, with the members' endpoints.
            var ranges = await WaitAsync(async () => (await admin.ListRangesAsync(new Wire.ListRangesRequest())).Ranges, r => r.Count == 2);
            Assert.All(ranges.SelectMany(r => r.Replicas), r => Assert.StartsWith("http://127.0.0.1:", r.Endpoint, StringComparison.Ordinal));

            // Every node knows node 4's endpoint; the meta range has it as a learner.
            foreach (int id in new[] { 1, 2, 3 })
            {
                var nodes = await WaitAsync(async () => (await cluster.Admin(id).ListNodesAsync(new Wire.ListNodesRequest())).Nodes, n => n.Count == 4);
                Assert.Equal(node4.Options.Listen.ToString().TrimEnd('/'), nodes.Single(n => n.NodeId == 4).Endpoint);
            }
            var metaConfig = await WaitAsync(() => Task.FromResult(cluster.Node(1).Host.ConfigurationOf(RangeIds.Meta)!), c => c.IsLearner(4));
            Assert.Equal([1, 2, 3], metaConfig.Voters.Order());

            // Node 4 hosts no user range: it answers with where the key's range lives.
            var kv = new Wire.Kv.KvClient(channel);
            var moved = await Assert.ThrowsAsync<RpcException>(() => kv.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8("k") }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, moved.StatusCode);
            var descriptor = moved.GetRpcStatus()!.GetDetail<Wire.RangeMoved>().Descriptor_;
            Assert.Equal(3, descriptor.Replicas.Count);
            Assert.Contains(descriptor.Replicas, r => r.Endpoint == cluster.Endpoint(1).ToString().TrimEnd('/'));

            // Restarted, it is initialised (its meta replica is stored) and does not join again.
            string data = node4.Options.DataDirectory;
            int port = node4.Options.Listen.Port;
            await node4.DisposeAsync();
            node4 = await cluster.StartJoinerAsync(4, [new Uri("http://127.0.0.1:1")], data, port);
            using var again = GrpcChannel.ForAddress(node4.Options.Listen);
            await WaitAsync(async () => (await new Wire.Admin.AdminClient(again).ListRangesAsync(new Wire.ListRangesRequest())).Ranges, r => r.Count == 2);
        }
        finally
        {
            await node4.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task NodeNotYetInitialised_AnswersUnavailable_WithAClearMessage()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        // Join through an address where nothing listens: the node stays uninitialised.
        await using var lonely = await cluster.StartJoinerAsync(9, [new Uri("http://127.0.0.1:1")]);
        using var channel = GrpcChannel.ForAddress(lonely.Options.Listen);
        var kv = new Wire.Kv.KvClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(() => kv.PutAsync(new Wire.PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("not initialised", error.Status.Detail, StringComparison.Ordinal);
        var scan = await Assert.ThrowsAsync<RpcException>(() => kv.ScanAsync(new Wire.ScanRequest { Reverse = true }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, scan.StatusCode);
        // The node is up and answers its admin API.
        var status = await new Wire.Admin.AdminClient(channel).NodeStatusAsync(new Wire.NodeStatusRequest());
        Assert.Equal(9UL, status.NodeId);
    }

    [Fact(Timeout = 60_000)]
    public async Task AddNode_RefusesANodeIdThatBelongsToAnotherEndpoint()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => cluster.Admin(1).AddNodeAsync(new Wire.AddNodeRequest
        {
            Node = new Wire.NodeInfo { NodeId = 2, Endpoint = "http://127.0.0.1:1" },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("already belongs", error.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            T value;
            try
            {
                value = await read();
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
                continue;
            }
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"still {value}");
            await Task.Delay(50);
        }
    }
}
