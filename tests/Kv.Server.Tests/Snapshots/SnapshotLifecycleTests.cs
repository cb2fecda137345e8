using Grpc.Core;
using Kv.Server.Snapshots;
using Kv.Server.Tests.Node;
using Kv.Server.Tests.Txn;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Snapshots;

/// <summary>Create, list, show and delete of snapshots on an in-process cluster of four ranges, and bad names.</summary>
public sealed class SnapshotLifecycleTests
{
    internal static Wire.Snapshots.SnapshotsClient Client(InProcessCluster cluster, int node) => new(cluster.Channel(node));

    internal static Task<Wire.SnapshotManifest> CreateAsync(InProcessCluster cluster, int node, string name) =>
        Client(cluster, node).CreateAsync(new Wire.CreateSnapshotRequest { Name = name }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;

    internal static async Task<List<Wire.SnapshotManifest>> ListAsync(InProcessCluster cluster, int node) =>
        (await Client(cluster, node).ListAsync(new Wire.ListSnapshotsRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Snapshots.ToList();

    [Fact(Timeout = 120_000)]
    public async Task Create_ListShowDelete_AndTheCheckpointsGo()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync();
        await cluster.PutAsync("a", "1");
        await cluster.PutAsync("x", "2");
        var created = await CreateAsync(cluster, 2, "nightly-1");
        Assert.Equal("nightly-1", created.Name);
        Assert.Equal(4, created.Ranges.Count);
        Assert.All(created.Ranges, r => Assert.Equal(3, r.NodeIds.Count));
        Assert.True(created.Timestamp.WallNanos > 0);

        // Every node lists it (nodes 1 and 3 may forward to the meta range's leader) and shows it by name.
        foreach (int node in new[] { 1, 2, 3 })
            Assert.Equal(created.Id, Assert.Single(await ListAsync(cluster, node)).Id);
        var shown = await Client(cluster, 3).ShowAsync(new Wire.ShowSnapshotRequest { Name = "nightly-1" });
        Assert.Equal(created.Timestamp, shown.Timestamp);
        Assert.Equal(created.Ranges.Select(r => r.Range.RangeId), shown.Ranges.Select(r => r.Range.RangeId));
        foreach (int node in new[] { 1, 2, 3 })
            Assert.True(Directory.Exists(CheckpointDirectory(cluster, node, created.Id)), $"node {node} has no checkpoint");

        var again = await Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, 1, "nightly-1"));
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);

        await Client(cluster, 1).DeleteAsync(new Wire.DeleteSnapshotRequest { Name = "nightly-1" });
        Assert.Empty(await ListAsync(cluster, 2));
        var missing = await Assert.ThrowsAsync<RpcException>(() => Client(cluster, 2).ShowAsync(new Wire.ShowSnapshotRequest { Name = "nightly-1" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var deleteAgain = await Assert.ThrowsAsync<RpcException>(() => Client(cluster, 2).DeleteAsync(new Wire.DeleteSnapshotRequest { Name = "nightly-1" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, deleteAgain.StatusCode);
        // The sweepers drop checkpoints of deleted snapshots without waiting for the orphan timeout.
        await SweepUntilGoneAsync(cluster, created.Id);

        // The name is free again.
        Assert.Equal("nightly-1", (await CreateAsync(cluster, 3, "nightly-1")).Name);
    }

    [Fact(Timeout = 60_000)]
    public async Task Create_WithABadName_IsInvalidArgument_NamingTheRule()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        foreach (var name in new[] { "", "has space", "slash/es", new string('x', 65) })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, 1, name));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("1 to 64 letters", e.Status.Detail);
        }
        Assert.Empty(await ListAsync(cluster, 1));
        // The longest name allowed works.
        Assert.Equal(new string('x', 64), (await CreateAsync(cluster, 1, new string('x', 64))).Name);
    }

    [Fact(Timeout = 90_000)]
    public async Task ASnapshot_IsNotListed_BeforeItsManifestIsChosen()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var hold = new HoldAtStep(SnapshotStep.BeforeManifest);
        cluster.Node(1).Snapshots.FailPoints = hold;
        var create = CreateAsync(cluster, 1, "held");
        string id = await hold.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        // Pieces and checkpoints exist, the manifest does not: nobody lists it.
        Assert.True(Directory.Exists(CheckpointDirectory(cluster, 1, id)));
        foreach (int node in new[] { 1, 2, 3 }) Assert.Empty(await ListAsync(cluster, node));
        hold.Release();
        Assert.Equal(id, (await create).Id);
        Assert.Equal(id, Assert.Single(await ListAsync(cluster, 2)).Id);
    }

    internal static string CheckpointDirectory(InProcessCluster cluster, int node, string id) =>
        Path.Combine(cluster.Node(node).Options.DataDirectory, "snapshots", id);

    /// <summary>Runs every node's snapshot sweeper until none holds a checkpoint of <paramref name="id"/> (bounded).</summary>
    internal static async Task SweepUntilGoneAsync(InProcessCluster cluster, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            foreach (int node in new[] { 1, 2, 3 })
                await cluster.Node(node).SnapshotSweeper.SweepOnceAsync(CancellationToken.None);
            if (new[] { 1, 2, 3 }.All(n => !Directory.Exists(CheckpointDirectory(cluster, n, id)))) return;
            Assert.True(DateTime.UtcNow < deadline, $"checkpoints of snapshot {id} still exist");
            await Task.Delay(100);
        }
    }
}
