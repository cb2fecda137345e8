using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

public sealed class NodeOptionsDefaultsTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void NothingConfigured_RunsASingleNodeClusterOnLocalhost()
    {
        NodeOptions options = NodeConfiguration.Load([], NoEnvironment, appSettingsPath: null);

        Assert.Equal(1, options.NodeId);
        Assert.Equal(Path.Combine(".", "data", "node-1"), options.DataDirectory);
        Assert.Equal(new Uri("http://127.0.0.1:7100"), options.Listen);
        Assert.Null(options.MetricsListen);
        Assert.Empty(options.Peers);
        Assert.Empty(options.Join);
        Assert.Equal(10, options.TickIntervalMs);
        Assert.Equal(100, options.ElectionTimeoutTicks);
        Assert.Equal(10, options.HeartbeatIntervalTicks);
        Assert.Equal(0.1, options.ClockDriftBound);
        Assert.Equal(500, options.ClockForwardJumpMsMax);
        Assert.Equal(200, options.ClockPersistAheadMs);
        Assert.Equal(4096, options.KeyBytesMax);
        Assert.Equal(4 * 1024 * 1024, options.ValueBytesMax);
        Assert.Equal(64L * 1024 * 1024, options.RangeSplitBytes);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void MissingAppSettingsFile_IsNotAnError()
    {
        NodeOptions options = NodeConfiguration.Load([], NoEnvironment, Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.json"));

        Assert.Equal(1, options.NodeId);
    }

    [Fact]
    public void DataDirectory_Unset_FollowsTheNodeId()
    {
        Assert.Equal(Path.Combine(".", "data", "node-7"), new NodeOptions { NodeId = 7 }.DataDirectory);
        Assert.Equal(Path.Combine(".", "data", "node-8"), (new NodeOptions { NodeId = 7 } with { NodeId = 8 }).DataDirectory);
        Assert.Equal("/srv/kv", new NodeOptions { NodeId = 7, DataDirectory = "/srv/kv" }.DataDirectory);
    }

    [Fact]
    public void ClockOptions_AreTheClockSettingsInNanoseconds()
    {
        var clock = new NodeOptions { ClockForwardJumpMsMax = 250, ClockPersistAheadMs = 100 }.ToClockOptions();

        Assert.Equal(250_000_000, clock.ForwardJumpNanosMax);
        Assert.Equal(100_000_000, clock.PersistAheadNanos);
        new NodeOptions().ToClockOptions().Validate();
    }
}
