using Kv.Server.Tests.Node;

namespace Kv.Admin.Tests;

/// <summary>One in-process 3-node cluster shared by the kvctl tests that leave it running (≈ 2 s to start).</summary>
public sealed class AdminClusterFixture : IAsyncLifetime
{
    internal InProcessCluster Cluster { get; private set; } = null!;

    /// <summary>The value of --endpoints for this cluster.</summary>
    public string Endpoints { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Cluster = await InProcessCluster.StartAsync();
        Endpoints = EndpointsOf(Cluster);
    }

    internal static string EndpointsOf(InProcessCluster cluster) =>
        string.Join(",", Enumerable.Range(1, 3).Select(i => cluster.Endpoint(i).ToString().TrimEnd('/')));

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AdminClusterCollection : ICollectionFixture<AdminClusterFixture>
{
    public const string Name = "admin cluster";
}
