using System.Net;
using Grpc.Net.Client;
using Kv.Server.Api;
using Kv.Server.Clock;
using Kv.Server.Configuration;
using Kv.Server.Peers;
using Kv.Server.Replication;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using Kv.Storage.Mvcc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PaxosConfiguration = Kv.Paxos.Configuration;
using PaxosMessage = Kv.Paxos.PaxosMessage;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>How range 1 is replicated behind the API server (node 1 always serves the API).</summary>
internal enum KvTestTopology
{
    /// <summary>Voters [1]; no peers: every Paxos message is dropped.</summary>
    SoleVoter,

    /// <summary>
    /// Voters [1] and a learner, node 2, hosted in the same process over an in-memory network. Node 1 still leads
    /// alone; the learner replicates (and, today, its Accepted replies are what advance node 1's chosen prefix:
    /// see <see cref="KvSoleVoterTests"/>).
    /// </summary>
    SoleVoterWithLearner,

    /// <summary>Voters [1, 2] with node 2 absent: no quorum, so no leader, ever.</summary>
    VotersWithAbsentPeer,
}

/// <summary>
/// Node 1 serving the client API in-process: its own RocksDB in a temp directory, a <see cref="ReplicaHost"/> with
/// range 1 (all keys) replicated as the <see cref="KvTestTopology"/> says, a hybrid logical clock over the system
/// clock (persisting its bound is a no-op), and Kestrel on 127.0.0.1 (HTTP/2 only) with a <see cref="GrpcChannel"/>
/// client. Like a real node (<c>KvNode</c>), the port also serves the peer stream into node 1's host, so that tests
/// can feed it bad peer input and watch the range carry on.
/// </summary>
internal sealed class KvTestServer : IAsyncDisposable
{
    public const ulong RangeId = SingleRangeLocator.RangeId;

    private readonly string _root;
    private readonly Dictionary<ulong, Node> _nodes;
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private KvTestServer(string root, Dictionary<ulong, Node> nodes, WebApplication app, Uri endpoint, NodeOptions nodeOptions)
    {
        _root = root;
        _nodes = nodes;
        _app = app;
        Endpoint = endpoint;
        NodeOptions = nodeOptions;
        _channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            // A maximal value plus framing must come back from Get.
            MaxReceiveMessageSize = 2 * (nodeOptions.KeyBytesMax + nodeOptions.ValueBytesMax),
        });
        Client = new Wire.Kv.KvClient(_channel);
    }

    /// <summary>Node 1's host, which the API serves from.</summary>
    public ReplicaHost Host => _nodes[1].Host;

    public Uri Endpoint { get; }

    public NodeOptions NodeOptions { get; }

    public Wire.Kv.KvClient Client { get; }

    /// <summary>The largest request message the server takes, as gRPC ended up configured (server-wide).</summary>
    public int ReceiveBytesMax =>
        _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>>().Value.MaxReceiveMessageSize
        ?? throw new InvalidOperationException("The server has no receive limit.");

    /// <summary>
    /// Starts the nodes of <paramref name="topology"/> and node 1's API server; when node 1 can lead, waits until it
    /// does. Replica endpoints for error details: node 1 at the server's address, any other node at
    /// http://node-N.invalid:7100. <paramref name="locator"/>, when given, wraps the single-range locator (to route
    /// some keys elsewhere).
    /// </summary>
    public static async Task<KvTestServer> StartAsync(
        KvTestTopology topology = KvTestTopology.SoleVoter, KvApiLimits? limits = null, Func<IRangeLocator, IRangeLocator>? locator = null)
    {
        var configuration = topology switch
        {
            KvTestTopology.SoleVoter => new PaxosConfiguration([1]),
            KvTestTopology.SoleVoterWithLearner => new PaxosConfiguration([1], [2]),
            _ => new PaxosConfiguration([1, 2]),
        };
        var nodeOptions = new NodeOptions { NodeId = 1 };
        string root = Path.Combine(Path.GetTempPath(), "kv-api-" + Guid.NewGuid().ToString("N"));
        var nodes = new Dictionary<ulong, Node>();
        var network = new InMemoryNetwork(nodes);
        nodes[1] = Node.Start(1, Path.Combine(root, "node-1"), configuration, network);
        if (topology == KvTestTopology.SoleVoterWithLearner) nodes[2] = Node.Start(2, Path.Combine(root, "node-2"), configuration, network);

        var clock = new HybridLogicalClock(new SystemPhysicalClock(), StorageTimestamp.Zero, nodeOptions.ToClockOptions(), _ => ValueTask.CompletedTask);
        Uri? endpoint = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddGrpc(o => KvServerSetup.ConfigureGrpc(o, nodeOptions, limits));
        builder.Services.AddSingleton(nodes[1].Host);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(nodeOptions);
        if (limits is not null) builder.Services.AddSingleton(limits);
        // Resolved at the first request, after the server has its address.
        builder.Services.AddSingleton<IRangeLocator>(_ =>
        {
            var single = new SingleRangeLocator(configuration.Members
                .Select(m => new RangeReplica((ulong)m, m == 1 ? endpoint!.ToString() : $"http://node-{m}.invalid:7100", configuration.IsLearner(m)))
                .ToArray());
            return locator is null ? single : locator(single);
        });
        builder.Services.AddSingleton<IPeerMessageSink>(nodes[1].Host);
        builder.Services.AddSingleton(new PeerLocalNode(1));
        var app = builder.Build();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<PeerService>();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            foreach (var n in nodes.Values) await n.DisposeAsync();
            DeleteRoot(root);
            throw;
        }
        endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        var server = new KvTestServer(root, nodes, app, endpoint, nodeOptions);
        if (topology != KvTestTopology.VotersWithAbsentPeer)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                while (!server.Host.Status(RangeId).IsLeader) await Task.Delay(5, timeout.Token);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        return server;
    }

    /// <summary>A deadline for one call: every call in these tests is bounded.</summary>
    public static DateTime Deadline(int seconds = 10) => DateTime.UtcNow.AddSeconds(seconds);

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var n in _nodes.Values.ToList()) await n.DisposeAsync();
        _nodes.Clear();
        DeleteRoot(_root);
    }

    private static void DeleteRoot(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>One node's storage and replica host.</summary>
    private sealed class Node(NodeStore store, MvccStore mvcc, GroupCommitter committer, ReplicaHost host) : IAsyncDisposable
    {
        public ReplicaHost Host { get; } = host;

        public static Node Start(ulong id, string directory, PaxosConfiguration configuration, IPeerSender network)
        {
            var store = NodeStore.Open(directory);
            var mvcc = new MvccStore(store);
            var committer = new GroupCommitter(store);
            var host = new ReplicaHost(id, store, mvcc, committer, network,
                replica => new Kv.Paxos.ReplicaOptions { ReplicaId = replica, ElectionTimeoutTicks = 10, HeartbeatIntervalTicks = 2 },
                NullLogger.Instance);
            host.AddRange(RangeId, KeySpan.All, configuration);
            host.Start(TimeSpan.FromMilliseconds(5));
            return new Node(store, mvcc, committer, host);
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await committer.DisposeAsync();
            mvcc.Dispose();
            store.Dispose();
        }
    }

    /// <summary>Delivers to the nodes of this process; a message for any other node is lost, which Paxos tolerates.</summary>
    private sealed class InMemoryNetwork(Dictionary<ulong, Node> nodes) : IPeerSender
    {
        public bool Send(ulong toNode, ulong groupId, PaxosMessage message)
        {
            if (!nodes.TryGetValue(toNode, out var target)) return false;
            target.Host.Deliver((ulong)message.From, groupId, message);
            return true;
        }
    }
}
