using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>Every check names the setting, what is wrong, and where to set it.</summary>
public sealed class NodeOptionsValidationTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static readonly NodeOptions ThreeNodes = new()
    {
        NodeId = 2,
        Peers = [new(1, new Uri("http://a:7100")), new(2, new Uri("http://b:7100")), new(3, new Uri("http://c:7100"))],
    };

    [Fact]
    public void NonPositiveNodeId() => AssertSingleProblem(new NodeOptions { NodeId = 0 }, "NodeId: must be positive, got 0");

    [Fact]
    public void EmptyDataDirectory() => AssertSingleProblem(new NodeOptions { DataDirectory = " " }, "DataDirectory: must not be empty");

    [Theory]
    [InlineData("ftp://host:7100", "Listen: must be http or https, got ftp")]
    [InlineData("http://host:7100/kv", "Listen: must have no path, query or fragment")]
    public void BadListenUrl(string url, string expected) => AssertSingleProblem(new NodeOptions { Listen = new Uri(url) }, expected);

    [Fact]
    public void RelativeListenUrl() =>
        AssertSingleProblem(new NodeOptions { Listen = new Uri("kv/node-1", UriKind.Relative) }, "Listen: must be an absolute URL");

    [Fact]
    public void MetricsOnTheGrpcPort() =>
        AssertSingleProblem(new NodeOptions { MetricsListen = new Uri("http://127.0.0.1:7100") }, "MetricsListen: must use another port than Listen (7100)");

    [Fact]
    public void DuplicatePeerIds() =>
        AssertSingleProblem(
            ThreeNodes with { Peers = [.. ThreeNodes.Peers, new PeerEndpoint(3, new Uri("http://d:7100"))] },
            "Peers: node id 3 appears more than once");

    [Fact]
    public void DuplicatePeerUrls() =>
        AssertSingleProblem(
            ThreeNodes with { Peers = [.. ThreeNodes.Peers, new PeerEndpoint(4, new Uri("http://C:7100/"))] },
            "Peers: http://c:7100 is given for more than one node");

    [Fact]
    public void SelfMissingFromPeers() =>
        AssertSingleProblem(ThreeNodes with { NodeId = 4 }, "Peers: must include this node (NodeId 4), or set Join so that it joins the cluster they form; the ids given are 1, 2, 3");

    [Fact]
    public void NonPositivePeerId() =>
        AssertSingleProblem(
            ThreeNodes with { Peers = [.. ThreeNodes.Peers, new PeerEndpoint(0, new Uri("http://d:7100"))] },
            "Peers: node ids must be positive, got '0=http://d:7100'");

    [Fact]
    public void PeerAtAWildcardAddress() =>
        AssertSingleProblem(
            ThreeNodes with { Peers = [.. ThreeNodes.Peers, new PeerEndpoint(4, new Uri("http://0.0.0.0:7100"))] },
            "Peers: '4=http://0.0.0.0:7100': must name a reachable host, not the wildcard 0.0.0.0");

    [Fact]
    public void BadJoinUrl() =>
        AssertSingleProblem(new NodeOptions { Join = [new Uri("https://a:7100/x")] }, "Join: 'https://a:7100/x' must have no path");

    [Theory]
    [InlineData(nameof(NodeOptions.TickIntervalMs), "TickIntervalMs: must be positive, got 0")]
    [InlineData(nameof(NodeOptions.ElectionTimeoutTicks), "ElectionTimeoutTicks: must be at least 2, got 0")]
    [InlineData(nameof(NodeOptions.ClockForwardJumpMsMax), "ClockForwardJumpMsMax: must be positive, got 0")]
    [InlineData(nameof(NodeOptions.ClockPersistAheadMs), "ClockPersistAheadMs: must be positive, got 0")]
    [InlineData(nameof(NodeOptions.KeyBytesMax), "KeyBytesMax: must be positive, got 0")]
    [InlineData(nameof(NodeOptions.ValueBytesMax), "ValueBytesMax: must be positive, got 0")]
    [InlineData(nameof(NodeOptions.RangeSplitBytes), "RangeSplitBytes: must be positive, got 0")]
    public void NonPositiveSizesAndTimes(string setting, string expected)
    {
        var defaults = new NodeOptions();
        NodeOptions zeroed = setting switch
        {
            nameof(NodeOptions.TickIntervalMs) => defaults with { TickIntervalMs = 0 },
            nameof(NodeOptions.ElectionTimeoutTicks) => defaults with { ElectionTimeoutTicks = 0, HeartbeatIntervalTicks = -1 },
            nameof(NodeOptions.ClockForwardJumpMsMax) => defaults with { ClockForwardJumpMsMax = 0 },
            nameof(NodeOptions.ClockPersistAheadMs) => defaults with { ClockPersistAheadMs = 0 },
            nameof(NodeOptions.KeyBytesMax) => defaults with { KeyBytesMax = 0 },
            nameof(NodeOptions.ValueBytesMax) => defaults with { ValueBytesMax = 0 },
            nameof(NodeOptions.RangeSplitBytes) => defaults with { RangeSplitBytes = 0 },
            _ => throw new ArgumentOutOfRangeException(nameof(setting)),
        };

        Assert.Contains(zeroed.Validate(), p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void HeartbeatNotBelowElectionTimeout() =>
        AssertSingleProblem(new NodeOptions { HeartbeatIntervalTicks = 100 }, "HeartbeatIntervalTicks: must be at least 1 and below ElectionTimeoutTicks (100), got 100");

    [Fact]
    public void DriftBoundOutOfRange() =>
        AssertSingleProblem(new NodeOptions { ClockDriftBound = 1.0 }, "ClockDriftBound: must be at least 0 and below 1, got 1");

    [Fact]
    public void PersistAheadNotBelowForwardJump() =>
        AssertSingleProblem(new NodeOptions { ClockPersistAheadMs = 500 }, "ClockPersistAheadMs: must be below ClockForwardJumpMsMax (500)");

    [Fact]
    public void RangeSplitSmallerThanOneEntry() =>
        AssertSingleProblem(new NodeOptions { RangeSplitBytes = 1000 }, "RangeSplitBytes: must hold at least one largest key and value (4198400 bytes)");

    [Fact]
    public void Problems_NameWhereToSetTheSetting()
    {
        string problem = Assert.Single(new NodeOptions { NodeId = -1 }.Validate());

        Assert.Equal("NodeId: must be positive, got -1 (set with --node-id, KV_NODE_ID or Kv:NodeId).", problem);
    }

    [Fact]
    public void EnsureValid_ThrowsWithEveryProblem()
    {
        var e = Assert.Throws<NodeOptionsException>(() => new NodeOptions { NodeId = 0, KeyBytesMax = 0 }.EnsureValid());

        Assert.Equal(2, e.Problems.Count);
        Assert.Contains("NodeId: must be positive", e.Message, StringComparison.Ordinal);
        Assert.Contains("KeyBytesMax: must be positive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ValidationProblemsAreThrown()
    {
        var e = Assert.Throws<NodeOptionsException>(() => NodeConfiguration.Load(["--node-id", "4", "--peers", "1=http://a:7100"], NoEnvironment, null));

        Assert.StartsWith("Peers: must include this node (NodeId 4)", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    private static void AssertSingleProblem(NodeOptions options, string expectedStart)
    {
        string problem = Assert.Single(options.Validate());
        Assert.StartsWith(expectedStart, problem, StringComparison.Ordinal);
    }
}
