using Kv.Server.Snapshots;
using Kv.Server.Tests.Node;

namespace Kv.Server.Tests.Snapshots;

/// <summary>A snapshot whose coordinator dies between the pieces and the manifest is never listed, and the sweepers remove what it left.</summary>
public sealed class SnapshotOrphanTests
{
    [Fact(Timeout = 120_000)]
    public async Task CoordinatorCrash_BeforeTheManifest_LeavesNothingListed_AndTheSweepersRemoveThePieces()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o with { SnapshotOrphanTimeoutMs = 4_000 });
        await cluster.PutAsync("k", "v");
        var stop = new HoldAtStep(SnapshotStep.BeforeManifest, stop: true);
        cluster.Node(1).Snapshots.FailPoints = stop;
        await Assert.ThrowsAnyAsync<Exception>(() => SnapshotLifecycleTests.CreateAsync(cluster, 1, "half"));
        string id = await stop.Reached;
        // Before the orphan timeout the sweepers leave the pieces alone (the coordinator might still publish).
        Assert.Equal(0, await cluster.Node(2).SnapshotSweeper.SweepOnceAsync(CancellationToken.None));
        foreach (int node in new[] { 1, 2, 3 })
        {
            Assert.True(Directory.Exists(SnapshotLifecycleTests.CheckpointDirectory(cluster, node, id)), $"node {node} took no checkpoint");
            Assert.Contains(id, Local(cluster, node).List().Keys);
        }
        string node1Checkpoint = SnapshotLifecycleTests.CheckpointDirectory(cluster, 1, id);
        // The coordinator's node crashes, as if the process died at the step.
        await cluster.StopNodeAsync(1, crash: true);
        Assert.Empty(await SnapshotLifecycleTests.ListAsync(cluster, 2));

        await Task.Delay(4_000);
        foreach (int node in new[] { 2, 3 })
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Local(cluster, node).List().ContainsKey(id) && DateTime.UtcNow < deadline)
            {
                await cluster.Node(node).SnapshotSweeper.SweepOnceAsync(CancellationToken.None);
                await Task.Delay(50);
            }
            Assert.False(Directory.Exists(SnapshotLifecycleTests.CheckpointDirectory(cluster, node, id)), $"node {node} kept the checkpoint");
            Assert.DoesNotContain(id, Local(cluster, node).List().Keys);
        }
        Assert.Empty(await SnapshotLifecycleTests.ListAsync(cluster, 3));

        // The crashed node, back, finds the id aborted in the meta range and removes its share at its first sweep.
        Assert.True(Directory.Exists(node1Checkpoint));
        await cluster.StartNodeAsync(1);
        var back = DateTime.UtcNow.AddSeconds(30);
        while (Directory.Exists(node1Checkpoint) && DateTime.UtcNow < back)
        {
            await cluster.Node(1).SnapshotSweeper.SweepOnceAsync(CancellationToken.None);
            await Task.Delay(50);
        }
        Assert.False(Directory.Exists(node1Checkpoint));
        Assert.DoesNotContain(id, Local(cluster, 1).List().Keys);
        Assert.Empty(await SnapshotLifecycleTests.ListAsync(cluster, 1));
    }

    private static LocalSnapshots Local(InProcessCluster cluster, int node) =>
        new(cluster.Node(node).Store, cluster.Node(node).Options.DataDirectory);
}
