using Google.Protobuf;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary><see cref="KvReadConsistency.Serializable"/> gets: spread over the replicas, each answered by the node it reached.</summary>
[Collection(ClusterCollection.Name)]
public sealed class KvClientSerializableReadTests(ClusterFixture cluster)
{
    private const int Reads = 60;

    [Fact(Timeout = 60_000)]
    public async Task SerializableGets_GoToEveryReplicaInTurn_AndEachIsServedWhereItLands()
    {
        string key = $"sget/{Guid.NewGuid():N}";
        await using (var writer = ClusterFixture.NewClient(cluster.Endpoints))
            await writer.PutAsync(key, "v");
        await WaitEveryNodeHasAsync(key, "v");

        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        for (int i = 0; i < Reads; i++)
            Assert.Equal("v", (await client.GetAsync(key, KvReadConsistency.Serializable))?.ValueString);

        // One attempt per read (no node redirected one to the leader), and each node took its share.
        Assert.Equal(Reads, attempts.Total);
        foreach (var endpoint in cluster.Endpoints)
            Assert.True(attempts.At(endpoint) >= Reads / 3 - 2, $"{endpoint} served {attempts.At(endpoint)} of {Reads} reads");
        Assert.Null(client.CachedLeaderEndpoint); // a follower's answer says nothing about who leads

        // Control: linearizable gets by the same client settle on one node, the leader.
        await client.GetAsync(key);
        var before = cluster.Endpoints.ToDictionary(e => e, attempts.At);
        for (int i = 0; i < Reads / 2; i++) Assert.Equal("v", (await client.GetAsync(key, KvReadConsistency.Linearizable))?.ValueString);
        Assert.Single(cluster.Endpoints, e => attempts.At(e) > before[e]);
    }

    [Fact(Timeout = 30_000)]
    public async Task AnUnknownConsistency_IsRefusedBeforeAnyCall()
    {
        var attempts = new AttemptCounter();
        await using var client = ClusterFixture.NewClient(cluster.Endpoints, o => o.HttpHandlerFactory = attempts.Handler);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetAsync("k", (KvReadConsistency)7));
        Assert.Equal(0, attempts.Total);
    }

    /// <summary>Until every node's replica has applied the write, a serializable read there may miss it.</summary>
    private async Task WaitEveryNodeHasAsync(string key, string value)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        foreach (var endpoint in cluster.Endpoints)
        {
            using var channel = GrpcChannel.ForAddress(endpoint);
            var kv = new Proto.V1.Kv.KvClient(channel);
            while (true)
            {
                var read = await kv.GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key), Consistency = ReadConsistency.Serializable },
                    deadline: DateTime.UtcNow.AddSeconds(5));
                if (read.Found && read.Value.ToStringUtf8() == value) break;
                Assert.True(DateTime.UtcNow < deadline, $"{endpoint} did not apply the write of {key}");
                await Task.Delay(20);
            }
        }
    }
}
