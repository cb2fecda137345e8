using Kv.Server.Configuration;

namespace Kv.Server.Tests.Configuration;

/// <summary>
/// Which nodes bootstrap and which join when Peers and Join are both set (every pod of a StatefulSet shares one
/// environment), and the URL a node advertises when Listen binds a wildcard address.
/// </summary>
public sealed class AdvertiseAndJoinTests
{
    private static readonly NodeOptions ThreeNodes = new()
    {
        NodeId = 2,
        Listen = new Uri("http://0.0.0.0:7100"),
        Peers = [new(1, new Uri("http://kv-0.kv-peers:7100")), new(2, new Uri("http://kv-1.kv-peers:7100")), new(3, new Uri("http://kv-2.kv-peers:7100"))],
        Join = [new Uri("http://kv:7100")],
    };

    [Fact]
    public void ANodeAmongThePeers_BootstrapsAndAdvertisesItsPeerEntry()
    {
        Assert.Empty(ThreeNodes.Validate());
        Assert.False(ThreeNodes.JoinsExistingCluster);
        Assert.Equal(new Uri("http://kv-1.kv-peers:7100"), ThreeNodes.AdvertisedUrl);
    }

    [Fact]
    public void ANodeOutsideThePeers_JoinsAndAdvertisesTheAdvertiseUrl()
    {
        NodeOptions fourth = ThreeNodes with { NodeId = 4, Advertise = new Uri("http://kv-3.kv-peers:7100") };

        Assert.Empty(fourth.Validate());
        Assert.True(fourth.JoinsExistingCluster);
        Assert.Equal(new Uri("http://kv-3.kv-peers:7100"), fourth.AdvertisedUrl);
    }

    [Fact]
    public void ANodeOutsideThePeersWithoutJoin_IsStillAnError()
    {
        string problem = Assert.Single((ThreeNodes with { NodeId = 4, Join = [] }).Validate());

        Assert.StartsWith("Peers: must include this node (NodeId 4), or set Join", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AJoiningNodeWithAWildcardListenAndNoAdvertise_IsRefused()
    {
        string problem = Assert.Single((ThreeNodes with { NodeId = 4 }).Validate());

        Assert.StartsWith("Advertise: a joining node tells the cluster where to reach it, and Listen (http://0.0.0.0:7100/) binds a wildcard address",
            problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AJoiningNodeWithAReachableListen_AdvertisesListen()
    {
        NodeOptions joiner = new() { NodeId = 4, Listen = new Uri("http://10.0.0.4:7100"), Join = [new Uri("http://10.0.0.1:7100")] };

        Assert.Empty(joiner.Validate());
        Assert.True(joiner.JoinsExistingCluster);
        Assert.Equal(joiner.Listen, joiner.AdvertisedUrl);
    }

    [Fact]
    public void AdvertiseAtAWildcardAddress_IsRefused()
    {
        string problem = Assert.Single((ThreeNodes with { NodeId = 4, Advertise = new Uri("http://0.0.0.0:7100") }).Validate());

        Assert.StartsWith("Advertise: 'http://0.0.0.0:7100' must name a reachable host", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AdvertiseThatDiffersFromTheNodesOwnPeerEntry_IsRefused()
    {
        string problem = Assert.Single((ThreeNodes with { Advertise = new Uri("http://kv-9.kv-peers:7100") }).Validate());

        Assert.StartsWith("Advertise: 'http://kv-9.kv-peers:7100' differs from this node's entry in Peers (2=http://kv-1.kv-peers:7100)",
            problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Advertise_IsReadFromTheEnvironmentAndAnEmptyValueMeansUnset()
    {
        var environment = new Dictionary<string, string> { ["KV_NODE_ID"] = "4", ["KV_ADVERTISE"] = "http://kv-3.kv-peers:7100", ["KV_JOIN"] = "http://kv:7100" };

        Assert.Equal(new Uri("http://kv-3.kv-peers:7100"), NodeConfiguration.Load([], environment, appSettingsPath: null).Advertise);
        environment["KV_ADVERTISE"] = "";
        Assert.Null(NodeConfiguration.Load([], environment, appSettingsPath: null).Advertise);
    }
}
