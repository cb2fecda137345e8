using System.Text.Json;
using Kv.Admin.App;
using Kv.Server.Tests.Node;

namespace Kv.Admin.Tests;

/// <summary>kvctl against a cluster with a node stopped: its own cluster, so the others keep all three.</summary>
public sealed class NodeDownTests
{
    [Fact]
    public async Task Status_WithOneNodeStopped_ShowsItDown_AndSucceeds()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var endpoints = AdminClusterFixture.EndpointsOf(cluster);
        await cluster.StopNodeAsync(3);

        var result = await Kvctl.RunAsync(["status", "-o", "json", "--endpoints", endpoints], "", null);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        using var doc = JsonDocument.Parse(result.Out);
        var up = doc.RootElement.GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.GetProperty("node_id").GetUInt64(), n => n.GetProperty("up").GetBoolean());
        Assert.Equal(new Dictionary<ulong, bool> { [1] = true, [2] = true, [3] = false }, up);
        var down = doc.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetUInt64() == 3);
        Assert.False(string.IsNullOrEmpty(down.GetProperty("error").GetString()));

        var table = await Kvctl.RunAsync(["status", "--endpoints", endpoints], "", null);
        Assert.Contains("2 of 3 nodes up", table.Out);
        Assert.Contains("down: ", table.Out);

        // ranges marks node 3's replicas as not answering, and still finds the leaders on 1 and 2.
        var ranges = await Kvctl.RunAsync(["ranges", "--endpoints", endpoints], "", null);
        Assert.True(ranges.ExitCode == ExitCodes.Ok, ranges.ToString());
        Assert.Contains("3!", ranges.Out);
        Assert.Contains("no answer from node 3", ranges.Out);
    }

    [Fact]
    public async Task NothingListening_StatusShowsEveryEndpointDown_AndFails()
    {
        var dead = $"http://127.0.0.1:{FreePort()},http://127.0.0.1:{FreePort()}";
        var status = await Kvctl.RunAsync(["status", "--endpoints", dead, "--timeout", "2"], "", null);
        Assert.Equal(ExitCodes.Failed, status.ExitCode);
        Assert.Contains("0 of 2 nodes up", status.Out);
        Assert.Contains("--endpoints", status.Error);

        var ranges = await Kvctl.RunAsync(["ranges", "--endpoints", dead, "--timeout", "2"], "", null);
        Assert.Equal(ExitCodes.Failed, ranges.ExitCode);
        Assert.Contains("could not reach any node", ranges.Error);
        Assert.Contains("Is the cluster running?", ranges.Error);
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
