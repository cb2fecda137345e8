using System.Net;
using System.Net.Sockets;
using Kv.Server.Configuration;
using Kv.Server.Node;

namespace Kv.Client.Tests;

/// <summary>
/// Three <see cref="KvNode"/>s in this process on free 127.0.0.1 ports, each with a RocksDB directory under a temp
/// folder, started once for all the client tests (≈ 1–2 s) and stopped and deleted at the end.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "kv-client-" + Guid.NewGuid().ToString("N"));
    private readonly List<KvNode> _nodes = [];

    /// <summary>The nodes' client endpoints, node 1 first.</summary>
    public IReadOnlyList<string> Endpoints { get; private set; } = [];

    public async Task InitializeAsync()
    {
        int basePort = FreeBasePort(3);
        var peers = Enumerable.Range(1, 3).Select(i => new PeerEndpoint(i, new Uri($"http://127.0.0.1:{basePort + i}"))).ToList();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var peer in peers)
        {
            _nodes.Add(await KvNode.StartAsync(new NodeOptions
            {
                NodeId = peer.NodeId,
                Listen = peer.Url,
                Peers = peers,
                DataDirectory = Path.Combine(_data, $"node-{peer.NodeId}"),
                ElectionTimeoutTicks = 30,
                HeartbeatIntervalTicks = 5,
            }, logging: null, cts.Token));
        }
        Endpoints = peers.Select(p => p.Url.ToString().TrimEnd('/')).ToList();
        // Serving once a write goes through: the client waits out the election with its own retries.
        await using var client = NewClient(Endpoints);
        await client.PutAsync("\u0001probe", "ok", cts.Token);
    }

    /// <summary>A client with short timeouts, so that failing tests fail fast.</summary>
    public static KvClient NewClient(IEnumerable<string> endpoints, Action<KvClientOptions>? configure = null)
    {
        var options = new KvClientOptions
        {
            PerCallTimeout = TimeSpan.FromSeconds(3),
            OverallDeadline = TimeSpan.FromSeconds(20),
            RetryAttemptsMax = 50,
            RetryBackoff = TimeSpan.FromMilliseconds(20),
            RetryBackoffMax = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        return new KvClient(endpoints, options);
    }

    /// <summary>The endpoint of the node leading range 1 now, as a client learns it.</summary>
    public async Task<string> LeaderAsync()
    {
        await using var client = NewClient(Endpoints);
        await client.GetAsync("\u0001probe");
        return client.CachedLeaderEndpoint ?? client.SeedEndpoints[0];
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    /// <summary>A port nobody listens on (bound then released), for a dead endpoint.</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static int FreeBasePort(int count)
    {
        var random = new Random();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int basePort = random.Next(20_000, 60_000);
            if (Enumerable.Range(1, count).All(i => IsFree(basePort + i))) return basePort;
        }
        throw new InvalidOperationException("No free ports found on 127.0.0.1.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
