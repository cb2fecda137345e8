using Kv.Server.Ranges;

namespace Kv.Server.Tests.Node;

/// <summary>Idle ranges quiesce on real nodes, wake for requests, and fail over when the leader's node dies.</summary>
public sealed class QuiescenceNodeTests
{
    [Fact(Timeout = 60_000)]
    public async Task IdleRanges_Quiesce_AndARequestWakesThem()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await cluster.PutAsync("a", "1");
        await WaitUntilAsync(() => AllQuiescent(cluster, [1, 2, 3]), TimeSpan.FromSeconds(20));
        // A write and a linearizable read go through on a quiescent range.
        await cluster.PutAsync("a", "2");
        Assert.Equal("2", (await cluster.GetAsync("a")).Value.ToStringUtf8());
        await WaitUntilAsync(() => AllQuiescent(cluster, [1, 2, 3]), TimeSpan.FromSeconds(20));
    }

    [Fact(Timeout = 60_000)]
    public async Task LeaderNodeDies_WhileItsRangeIsQuiescent_TheOthersElectANewLeader()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await cluster.PutAsync("b", "1");
        await WaitUntilAsync(() => AllQuiescent(cluster, [1, 2, 3]), TimeSpan.FromSeconds(20));
        int leader = new[] { 1, 2, 3 }.Single(id => cluster.Node(id).Host.Replicas().Single(r => r.RangeId == RangeIds.FirstUser).IsLeader);
        await cluster.StopNodeAsync(leader, crash: true);
        var started = DateTime.UtcNow;
        await cluster.PutAsync("b", "2");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "writes took too long to resume");
        Assert.Equal("2", (await cluster.GetAsync("b")).Value.ToStringUtf8());
    }

    private static bool AllQuiescent(InProcessCluster cluster, int[] nodes) =>
        nodes.All(id => cluster.Node(id).Host.Replicas().All(r => r.Quiescent));

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(20);
        }
    }
}
