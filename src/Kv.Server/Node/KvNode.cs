using System.Net;
using Kv.Server.Api;
using Kv.Server.Clock;
using Kv.Server.Configuration;
using Kv.Server.Peers;
using Kv.Server.Replication;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PaxosConfiguration = Kv.Paxos.Configuration;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Node;

/// <summary>
/// One node, wired: RocksDB storage, the hybrid logical clock (its upper bound persisted in the meta column
/// family), the peer transport, the replica host, and one HTTP/2 port serving the client API, the peer stream,
/// gRPC health and reflection. Until ranges and the meta range land, a node hosts range 1 over all keys,
/// replicated on every configured peer.
/// </summary>
public sealed class KvNode : IAsyncDisposable
{
    private const string ClockBoundKey = "clock/upper-bound";
    private readonly WebApplication _app;
    private readonly NodeStore _store;
    private readonly MvccStore _mvcc;
    private readonly GroupCommitter _committer;
    private readonly PeerTransport _transport;
    private readonly ReplicaHost _host;

    private KvNode(NodeOptions options, WebApplication app, NodeStore store, MvccStore mvcc, GroupCommitter committer, PeerTransport transport, ReplicaHost host)
    {
        Options = options;
        _app = app;
        _store = store;
        _mvcc = mvcc;
        _committer = committer;
        _transport = transport;
        _host = host;
    }

    /// <summary>The settings the node runs with.</summary>
    public NodeOptions Options { get; }

    /// <summary>The replica host (for status and tests).</summary>
    public ReplicaHost Host => _host;

    /// <summary>Opens storage, starts replication and serves on <see cref="NodeOptions.Listen"/>.</summary>
    public static async Task<KvNode> StartAsync(NodeOptions options, Action<ILoggingBuilder>? logging, CancellationToken cancellationToken)
    {
        options.EnsureValid();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            var address = IPAddress.TryParse(options.Listen.Host, out var ip) ? ip : IPAddress.Any;
            k.Listen(address, options.Listen.Port, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(o => KvServerSetup.ConfigureGrpc(o, options));
        builder.Services.AddGrpcHealthChecks();
        builder.Services.AddGrpcReflection();

        var store = NodeStore.Open(options.DataDirectory);
        var mvcc = new MvccStore(store);
        var committer = new GroupCommitter(store);
        var meta = new MetaStore(store);
        var floor = meta.TryGet(ClockBoundKey, out var bound)
            ? new StorageTimestamp(BitConverter.ToInt64(bound), BitConverter.ToInt32(bound.AsSpan(8)))
            : StorageTimestamp.Zero;
        var clock = new HybridLogicalClock(new SystemPhysicalClock(), floor, options.ToClockOptions(), async upper =>
        {
            var bytes = new byte[12];
            BitConverter.TryWriteBytes(bytes, upper.WallNanos);
            BitConverter.TryWriteBytes(bytes.AsSpan(8), upper.Logical);
            await committer.CommitAsync(batch => meta.Put(batch, ClockBoundKey, bytes)).ConfigureAwait(false);
        });
        var loggerFactory = LoggerFactory.Create(l => logging?.Invoke(l));
        var peers = options.Peers.Count > 0 ? options.Peers : [new PeerEndpoint(options.NodeId, options.Listen)];
        var endpoints = peers.ToDictionary(p => (ulong)p.NodeId, p => p.Url);
        var transport = new PeerTransport((ulong)options.NodeId, id => endpoints.GetValueOrDefault(id), new PeerTransportOptions(),
            loggerFactory.CreateLogger<PeerTransport>());
        var host = new ReplicaHost((ulong)options.NodeId, store, mvcc, committer, transport,
            replica => new Kv.Paxos.ReplicaOptions
            {
                ReplicaId = replica,
                ElectionTimeoutTicks = options.ElectionTimeoutTicks,
                HeartbeatIntervalTicks = options.HeartbeatIntervalTicks,
                ClockDriftBound = options.ClockDriftBound,
            },
            loggerFactory.CreateLogger<ReplicaHost>());
        host.AddRange(SingleRangeLocator.RangeId, KeySpan.All, new PaxosConfiguration(peers.Select(p => p.NodeId)));

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton<IPeerMessageSink>(host);
        builder.Services.AddSingleton(new PeerLocalNode((ulong)options.NodeId));
        builder.Services.AddSingleton<IRangeLocator>(SingleRangeLocator.FromOptions(options));
        var app = builder.Build();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<PeerService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        await clock.PersistBoundAsync(cancellationToken).ConfigureAwait(false);
        host.Start(TimeSpan.FromMilliseconds(options.TickIntervalMs));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new KvNode(options, app, store, mvcc, committer, transport, host);
    }

    /// <summary>
    /// Stops cleanly: hands leadership of its ranges to other voters while the peer streams still work, stops
    /// replication (pending requests fail fast instead of waiting for quorums that cannot form), then serving,
    /// the transport and storage.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _host.HandOffLeadershipAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        await _committer.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _mvcc.Dispose();
        _store.Dispose();
    }
}
