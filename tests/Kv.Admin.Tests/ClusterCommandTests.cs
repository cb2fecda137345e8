using System.Text.Json;
using Kv.Admin.App;
using Kv.Server.Tests.Node;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Tests;

/// <summary>status, ranges, split, leader transfer and members against a real in-process 3-node cluster.</summary>
[Collection(AdminClusterCollection.Name)]
public sealed class ClusterCommandTests(AdminClusterFixture fixture)
{
    private Task<KvctlResult> Run(params string[] args) => Kvctl.RunAsync([.. args, "--endpoints", fixture.Endpoints]);

    [Fact]
    public async Task Status_ListsEveryNodeUp_WithVersionUptimeAndDisk()
    {
        var result = await Run("status", "-o", "json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        using var doc = JsonDocument.Parse(result.Out);
        var nodes = doc.RootElement.GetProperty("nodes").EnumerateArray().ToArray();
        Assert.Equal([1UL, 2UL, 3UL], nodes.Select(n => n.GetProperty("node_id").GetUInt64()));
        foreach (var n in nodes)
        {
            Assert.True(n.GetProperty("up").GetBoolean());
            Assert.False(string.IsNullOrEmpty(n.GetProperty("version").GetString()));
            Assert.True(n.GetProperty("uptime_ms").GetInt64() > 0);
            Assert.True(n.GetProperty("data_directory_bytes").GetInt64() > 0);
            Assert.True(n.GetProperty("replicas").GetInt32() >= 2);
        }
        var table = await Run("status");
        Assert.Contains("3 of 3 nodes up", table.Out);
    }

    [Fact]
    public async Task Split_ThenRanges_ShowsBothHalvesWithLeaders()
    {
        var split = await Run("split", "split-here", "-o", "json");
        Assert.True(split.ExitCode == ExitCodes.Ok, split.ToString());
        using (var doc = JsonDocument.Parse(split.Out))
        {
            Assert.Equal("split-here", doc.RootElement.GetProperty("left").GetProperty("end_key").GetString());
            Assert.Equal("split-here", doc.RootElement.GetProperty("right").GetProperty("start_key").GetString());
        }
        // Both halves elect leaders shortly after the split; ranges reports them once they have.
        JsonElement[] ranges = [];
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var result = await Run("ranges", "-o", "json");
            Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
            ranges = JsonDocument.Parse(result.Out).RootElement.GetProperty("ranges").EnumerateArray().ToArray();
            if (ranges.All(r => r.GetProperty("leader_node_id").ValueKind == JsonValueKind.Number) || DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }
        Assert.True(ranges[0].GetProperty("meta").GetBoolean());
        var right = Assert.Single(ranges, r => r.GetProperty("start_key").GetString() == "split-here");
        Assert.Single(ranges, r => r.GetProperty("end_key").GetString() == "split-here");
        Assert.Equal(3, right.GetProperty("replicas").GetArrayLength());
        Assert.All(ranges, r => Assert.Equal(JsonValueKind.Number, r.GetProperty("leader_node_id").ValueKind));
        Assert.All(ranges, r => Assert.True(r.GetProperty("log_entries").GetInt64() >= 0));
    }

    [Fact]
    public async Task LeaderTransfer_MovesTheLeader_AsNodeStatusShows()
    {
        var cluster = fixture.Cluster;
        const ulong rangeId = 2;
        ulong leader = await LeaderOfAsync(cluster, rangeId);
        ulong target = leader % 3 + 1;
        var result = await Run("leader", "transfer", rangeId.ToString(), target.ToString());
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains($"leader is now node {target}", result.Out);
        Assert.Equal(target, await LeaderOfAsync(cluster, rangeId));

        // Asking the leader to lead again does nothing and says so.
        var again = await Run("leader", "transfer", rangeId.ToString(), target.ToString(), "-o", "json");
        using var doc = JsonDocument.Parse(again.Out);
        Assert.True(doc.RootElement.GetProperty("already_leader").GetBoolean());
    }

    [Fact]
    public async Task LeaderTransfer_ToANodeOutsideTheRange_FailsWithTheReason()
    {
        var result = await Run("leader", "transfer", "2", "9");
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("node 9 is not a voter of range 2", result.Error);
        var unknown = await Run("leader", "transfer", "999", "1");
        Assert.Equal(ExitCodes.Failed, unknown.ExitCode);
        Assert.Contains("range 999 is unknown", unknown.Error);
    }

    [Fact]
    public async Task Members_ListsTheNodes_AndRemoveSaysItIsNotSupported()
    {
        var list = await Run("members", "list", "-o", "raw");
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        Assert.Equal(3, list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains(fixture.Cluster.Endpoint(2).ToString().TrimEnd('/'), list.Out);
        var remove = await Run("members", "remove", "3");
        Assert.Equal(ExitCodes.Failed, remove.ExitCode);
        Assert.Contains("not supported by this server yet", remove.Error);
    }

    /// <summary>The node whose NodeStatus says it leads the range (polled: leadership may be settling).</summary>
    internal static async Task<ulong> LeaderOfAsync(InProcessCluster cluster, ulong rangeId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            foreach (int id in Enumerable.Range(1, 3).Where(cluster.IsRunning))
            {
                var status = await cluster.Admin(id).NodeStatusAsync(new Wire.NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(3));
                if (status.Replicas.Any(r => r.Range.RangeId == rangeId && r.IsLeader)) return status.NodeId;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no node leads range {rangeId}");
            await Task.Delay(50);
        }
    }
}
