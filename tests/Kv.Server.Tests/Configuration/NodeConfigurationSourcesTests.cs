using Kv.Server.Configuration;
using Microsoft.Extensions.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>Each source alone, and their precedence: flags over KV_ environment variables over appsettings.json.</summary>
public sealed class NodeConfigurationSourcesTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void AppSettings_KvSection_SetsEverySetting()
    {
        using var file = new TempAppSettings("""
            {
              "Logging": { "LogLevel": { "Default": "Information" } },
              "Kv": {
                "NodeId": 2,
                "DataDirectory": "/srv/kv",
                "Listen": "http://0.0.0.0:7200",
                "MetricsListen": "http://0.0.0.0:7280",
                "Peers": "1=http://a:7200, 2=http://b:7200 ,3=http://c:7200",
                "TickIntervalMs": 20,
                "ElectionTimeoutTicks": 50,
                "HeartbeatIntervalTicks": 5,
                "ClockDriftBound": 0.05,
                "ClockForwardJumpMsMax": 250,
                "ClockPersistAheadMs": 100,
                "KeyBytesMax": 1024,
                "ValueBytesMax": 65536,
                "RangeSplitBytes": 1048576
              }
            }
            """);

        NodeOptions options = NodeConfiguration.Load([], NoEnvironment, file.Path);

        Assert.Equal(2, options.NodeId);
        Assert.Equal("/srv/kv", options.DataDirectory);
        Assert.Equal(new Uri("http://0.0.0.0:7200"), options.Listen);
        Assert.Equal(new Uri("http://0.0.0.0:7280"), options.MetricsListen);
        Assert.Equal(["1=http://a:7200", "2=http://b:7200", "3=http://c:7200"], options.Peers.Select(p => p.ToString()));
        Assert.Equal(20, options.TickIntervalMs);
        Assert.Equal(50, options.ElectionTimeoutTicks);
        Assert.Equal(5, options.HeartbeatIntervalTicks);
        Assert.Equal(0.05, options.ClockDriftBound);
        Assert.Equal(250, options.ClockForwardJumpMsMax);
        Assert.Equal(100, options.ClockPersistAheadMs);
        Assert.Equal(1024, options.KeyBytesMax);
        Assert.Equal(65536, options.ValueBytesMax);
        Assert.Equal(1048576, options.RangeSplitBytes);
    }

    [Fact]
    public void AppSettings_PeersAndJoinAsJsonArrays_AreReadLikeTheCommaForm()
    {
        using var file = new TempAppSettings("""
            { "Kv": { "NodeId": 4, "Join": ["http://a:7100", "http://b:7100"] } }
            """);
        using var peers = new TempAppSettings("""
            { "Kv": { "Peers": ["1=http://a:7100", "2=http://b:7100"] } }
            """);

        Assert.Equal([new Uri("http://a:7100"), new Uri("http://b:7100")], NodeConfiguration.Load([], NoEnvironment, file.Path).Join);
        Assert.Equal([1, 2], NodeConfiguration.Load([], NoEnvironment, peers.Path).Peers.Select(p => p.NodeId));
    }

    [Fact]
    public void EnvironmentVariables_SetEverySetting()
    {
        var environment = new Dictionary<string, string>
        {
            ["KV_NODE_ID"] = "3",
            ["KV_DATA_DIR"] = "/var/lib/kv",
            ["KV_LISTEN"] = "http://0.0.0.0:7100",
            ["KV_METRICS_LISTEN"] = "http://0.0.0.0:7180",
            ["KV_PEERS"] = "1=http://a:7100,2=http://b:7100,3=http://c:7100",
            ["KV_TICK_INTERVAL_MS"] = "5",
            ["KV_ELECTION_TIMEOUT_TICKS"] = "300",
            ["KV_HEARTBEAT_INTERVAL_TICKS"] = "30",
            ["KV_CLOCK_DRIFT_BOUND"] = "0.2",
            ["KV_CLOCK_FORWARD_JUMP_MS_MAX"] = "1000",
            ["KV_CLOCK_PERSIST_AHEAD_MS"] = "400",
            ["KV_KEY_BYTES_MAX"] = "2048",
            ["KV_VALUE_BYTES_MAX"] = "1048576",
            ["KV_RANGE_SPLIT_BYTES"] = "134217728",
        };

        NodeOptions options = NodeConfiguration.Load([], environment, appSettingsPath: null);

        Assert.Equal(3, options.NodeId);
        Assert.Equal("/var/lib/kv", options.DataDirectory);
        Assert.Equal(new Uri("http://0.0.0.0:7100"), options.Listen);
        Assert.Equal(new Uri("http://0.0.0.0:7180"), options.MetricsListen);
        Assert.Equal([1, 2, 3], options.Peers.Select(p => p.NodeId));
        Assert.Equal(5, options.TickIntervalMs);
        Assert.Equal(300, options.ElectionTimeoutTicks);
        Assert.Equal(30, options.HeartbeatIntervalTicks);
        Assert.Equal(0.2, options.ClockDriftBound);
        Assert.Equal(1000, options.ClockForwardJumpMsMax);
        Assert.Equal(400, options.ClockPersistAheadMs);
        Assert.Equal(2048, options.KeyBytesMax);
        Assert.Equal(1048576, options.ValueBytesMax);
        Assert.Equal(134217728, options.RangeSplitBytes);
    }

    [Fact]
    public void EnvironmentVariables_JoinInsteadOfPeers()
    {
        var environment = new Dictionary<string, string> { ["KV_NODE_ID"] = "4", ["KV_JOIN"] = "http://a:7100,http://b:7100" };

        NodeOptions options = NodeConfiguration.Load([], environment, appSettingsPath: null);

        Assert.Equal([new Uri("http://a:7100"), new Uri("http://b:7100")], options.Join);
        Assert.Empty(options.Peers);
    }

    [Fact]
    public void Flags_SetSettings_InBothSpellings()
    {
        string[] args =
        [
            "--node-id", "2", "--data-dir=/tmp/kv2", "--listen", "http://127.0.0.1:7102",
            "--peers", "1=http://127.0.0.1:7101,2=http://127.0.0.1:7102,3=http://127.0.0.1:7103",
            "--metrics-listen=http://127.0.0.1:7182", "--value-bytes-max", "1000000", "--clock-drift-bound", "0.05",
        ];

        NodeOptions options = NodeConfiguration.Load(args, NoEnvironment, appSettingsPath: null);

        Assert.Equal(2, options.NodeId);
        Assert.Equal("/tmp/kv2", options.DataDirectory);
        Assert.Equal(new Uri("http://127.0.0.1:7102"), options.Listen);
        Assert.Equal(new Uri("http://127.0.0.1:7182"), options.MetricsListen);
        Assert.Equal(new Uri("http://127.0.0.1:7103"), options.Peers.Single(p => p.NodeId == 3).Url);
        Assert.Equal(1000000, options.ValueBytesMax);
        Assert.Equal(0.05, options.ClockDriftBound);
    }

    [Fact]
    public void Flags_GivenTwice_TheLastWins()
    {
        Assert.Equal(5, NodeConfiguration.Load(["--node-id", "4", "--node-id=5"], NoEnvironment, null).NodeId);
    }

    [Fact]
    public void Precedence_FlagsOverEnvironmentOverAppSettings()
    {
        using var file = new TempAppSettings("""
            { "Kv": { "NodeId": 1, "DataDirectory": "/from/json", "TickIntervalMs": 11, "KeyBytesMax": 1111 } }
            """);
        var environment = new Dictionary<string, string>
        {
            ["KV_DATA_DIR"] = "/from/env",
            ["KV_TICK_INTERVAL_MS"] = "22",
        };
        string[] args = ["--tick-interval-ms", "33"];

        NodeOptions options = NodeConfiguration.Load(args, environment, file.Path);

        Assert.Equal(1, options.NodeId);              // appsettings only
        Assert.Equal(1111, options.KeyBytesMax);      // appsettings only
        Assert.Equal("/from/env", options.DataDirectory); // environment over appsettings
        Assert.Equal(33, options.TickIntervalMs);     // flag over environment over appsettings
    }

    [Fact]
    public void Precedence_EnvironmentCommaListOverridesAJsonArray()
    {
        using var file = new TempAppSettings("""
            { "Kv": { "NodeId": 9, "Peers": ["1=http://a:7100", "9=http://z:7100"] } }
            """);
        var environment = new Dictionary<string, string> { ["KV_PEERS"] = "9=http://y:7100" };

        NodeOptions options = NodeConfiguration.Load([], environment, file.Path);

        Assert.Equal("9=http://y:7100", Assert.Single(options.Peers).ToString());
    }

    [Fact]
    public void AddKvSources_LayersOverTheHostsConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Kv:NodeId"] = "6", ["Kv:KeyBytesMax"] = "100" })
            .AddKvSources(new Dictionary<string, string> { ["KV_NODE_ID"] = "7" }, ["--key-bytes-max", "200"])
            .Build();

        NodeOptions options = NodeConfiguration.Bind(configuration);

        Assert.Equal(7, options.NodeId);
        Assert.Equal(200, options.KeyBytesMax);
    }

    [Fact]
    public void UnrelatedEnvironmentVariables_AreIgnored()
    {
        var environment = new Dictionary<string, string> { ["KV_UNKNOWN_THING"] = "x", ["PATH"] = "/usr/bin", ["Kv__NodeId"] = "5" };

        Assert.Equal(1, NodeConfiguration.Load([], environment, null).NodeId);
    }
}
