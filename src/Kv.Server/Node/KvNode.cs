using System.Net;
using Kv.Server.Api;
using Kv.Server.Clock;
using Kv.Server.Txn;
using Kv.Txn.Coordination;
using Kv.Server.Configuration;
using Kv.Server.Peers;
using Kv.Server.Admin;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Server.Telemetry;
using Kv.Server.Snapshots;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Storage.Paxos;
using Kv.Storage.Ranges;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using PaxosConfiguration = Kv.Paxos.Configuration;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Node;

/// <summary>
/// One node, wired: RocksDB storage, the hybrid logical clock (its upper bound persisted in the meta column
/// family), the peer transport, the replica host, and one HTTP/2 port serving the client API, the peer stream,
/// gRPC health and reflection. On first start with an empty data directory it writes the cluster's genesis (the
/// meta range and one user range over every key, replicated on the configured members); after that it restarts
/// whatever range replicas it stores, and ranges split as they grow.
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
    private readonly SplitScheduler _splits;
    private readonly PeerChannels _channels;
    private readonly NodeJoiner? _joiner;
    private readonly TxnCoordinator _txns;
    private readonly TxnSweeper _sweeper;
    private NodeTelemetry? _telemetry;
    private readonly SnapshotSweeper _snapshotSweeper;

    private KvNode(NodeOptions options, WebApplication app, NodeStore store, MvccStore mvcc, GroupCommitter committer, PeerTransport transport,
        ReplicaHost host, SplitScheduler splits, PeerChannels channels, NodeJoiner? joiner, TxnCoordinator txns, TxnSweeper sweeper,
        SnapshotCoordinator snapshots, SnapshotSweeper snapshotSweeper)
    {
        Snapshots = snapshots;
        _snapshotSweeper = snapshotSweeper;
        _txns = txns;
        _sweeper = sweeper;
        _joiner = joiner;
        _splits = splits;
        _channels = channels;
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

    /// <summary>The node's transaction coordinator (for tests).</summary>
    internal TxnCoordinator Transactions => _txns;

    /// <summary>The node's sweeper of orphaned transactions (for tests).</summary>
    internal TxnSweeper Sweeper => _sweeper;

    /// <summary>The node's snapshot coordinator (for tests: fail points, broken variants).</summary>
    internal SnapshotCoordinator Snapshots { get; }

    /// <summary>The node's sweeper of orphaned and deleted snapshots (for tests).</summary>
    internal SnapshotSweeper SnapshotSweeper => _snapshotSweeper;

    /// <summary>The node's storage (for tests that inspect or damage it).</summary>
    internal NodeStore Store => _store;

    /// <summary>The node's web host services (for tests that check what is registered).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>The node's MVCC data (for tests that read a replica's copy directly).</summary>
    internal MvccStore Mvcc => _mvcc;

    /// <summary>Opens storage, starts replication and serves on <see cref="NodeOptions.Listen"/>.</summary>
    public static Task<KvNode> StartAsync(NodeOptions options, Action<ILoggingBuilder>? logging, CancellationToken cancellationToken) =>
        StartAsync(options, logging, failPoints: null, cancellationToken);

    /// <summary>Starts a node whose transaction coordinator stops at <paramref name="failPoints"/> (for tests).</summary>
    internal static async Task<KvNode> StartAsync(NodeOptions options, Action<ILoggingBuilder>? logging, ITxnFailPoints? failPoints,
        CancellationToken cancellationToken)
    {
        options.EnsureValid();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            var address = IPAddress.TryParse(options.Listen.Host, out var ip) ? ip : IPAddress.Any;
            k.Listen(address, options.Listen.Port, l => l.Protocols = HttpProtocols.Http2);
            KvServerSetup.ListenForMetrics(k, options);
        });
        var telemetry = new NodeTelemetry(options);
        telemetry.AddTo(builder);
        builder.Services.AddGrpc(o => KvServerSetup.ConfigureGrpc(o, options));
        // gRPC health (Kubernetes probes, the image's HEALTHCHECK) answers UNKNOWN while no check is registered: this
        // one reports the node SERVING once it serves, which is what a probe of a live process needs to see.
        builder.Services.AddGrpcHealthChecks().AddCheck("node", () => HealthCheckResult.Healthy("serving"));
        builder.Services.AddGrpcReflection();

        var loggerFactory = LoggerFactory.Create(l => logging?.Invoke(l));
        if (options.RestoreFrom.Length > 0 && options.WalDirectory is { } walDirectory)
            SnapshotRestore.DiscardPreviousWal(options.DataDirectory, walDirectory, loggerFactory.CreateLogger("Kv.Server.Snapshots.Restore"));
        var store = NodeStore.Open(options.DataDirectory, options.WalDirectory);
        var mvcc = new MvccStore(store);
        var committer = new GroupCommitter(store, metrics: telemetry.Storage);
        var meta = new MetaStore(store);
        // A node that joins (or joined) learns the other members from the meta range; the initial members start from Peers.
        var peers = options.Peers.Count > 0 && !options.JoinsExistingCluster ? options.Peers : [new PeerEndpoint(options.NodeId, options.AdvertisedUrl)];
        if (options.RestoreFrom.Length > 0)
        {
            try
            {
                var nodes = peers.Select(p => new Kv.Proto.V1.NodeInfo { NodeId = (ulong)p.NodeId, Endpoint = p.Url.ToString().TrimEnd('/') }).ToArray();
                if (await SnapshotRestore.RunAsync(store, nodes, options.RestoreFrom, loggerFactory.CreateLogger("Kv.Server.Snapshots.Restore"), cancellationToken)
                    .ConfigureAwait(false) is { } restoredAt)
                {
                    // The clock issues above its floor: every write after the restore lands above the restored versions.
                    var floorBytes = new byte[12];
                    BitConverter.TryWriteBytes(floorBytes, restoredAt.WallNanos);
                    BitConverter.TryWriteBytes(floorBytes.AsSpan(8), restoredAt.Logical + 1);
                    using var floorBatch = new RocksDbSharp.WriteBatch();
                    meta.Put(floorBatch, ClockBoundKey, floorBytes);
                    store.Db.Write(floorBatch, store.SyncWrite);
                }
            }
            catch
            {
                await committer.DisposeAsync().ConfigureAwait(false);
                mvcc.Dispose();
                store.Dispose();
                telemetry.Dispose();
                throw;
            }
        }
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
        // EnsureValid above checked that a joining node's advertised URL is reachable (not a wildcard Listen).
        bool joining = !ClusterGenesis.IsInitialized(store) && options.JoinsExistingCluster;
        var endpoints = peers.ToDictionary(p => (ulong)p.NodeId, p => p.Url);
        var addresses = new NodeAddressBook(endpoints);
        var transport = new PeerTransport((ulong)options.NodeId, addresses.Find, new PeerTransportOptions(),
            loggerFactory.CreateLogger<PeerTransport>());
        telemetry.PeersOf(transport.GetStats);
        if (!ClusterGenesis.IsInitialized(store) && !joining)
        {
            ClusterGenesis.Write(store, peers.Select(p => new Kv.Proto.V1.NodeInfo { NodeId = (ulong)p.NodeId, Endpoint = p.Url.ToString().TrimEnd('/') }).ToArray());
        }
        var directory = new RangeDirectory();
        var channels = new PeerChannels(addresses);
        var data = new RangeDataOps(store);
        var fetcher = new PeerRangeDataFetcher(channels, data, loggerFactory.CreateLogger<PeerRangeDataFetcher>());
        ReplicaHost? hosted = null;
        var host = new ReplicaHost((ulong)options.NodeId, store, mvcc, committer, transport,
            replica => new Kv.Paxos.ReplicaOptions
            {
                ReplicaId = replica,
                ElectionTimeoutTicks = options.ElectionTimeoutTicks,
                HeartbeatIntervalTicks = options.HeartbeatIntervalTicks,
                // Idle ranges go quiet after three heartbeat intervals of nothing to do.
                QuiesceAfterTicks = 3 * options.HeartbeatIntervalTicks,
                ClockDriftBound = options.ClockDriftBound,
            },
            loggerFactory.CreateLogger<ReplicaHost>(), directory: directory, fetcher: fetcher, compactAfterEntries: options.LogCompactionEntries,
            compactAfterBytes: options.LogCompactionBytes,
            addresses: addresses, metrics: telemetry.ReplicasOf(() => hosted?.Replicas() ?? []));
        hosted = host;
        foreach (long group in new PaxosStateStore(store).ListGroups()) host.AddRange((ulong)group);
        // A joining node starts with an empty meta replica; the meta range's leader fills it once it is added.
        if (joining) host.AddEmptyReplica(RangeIds.Meta);
        var proposer = new RangeProposer((ulong)options.NodeId, host, clock, channels, directory, loggerFactory.CreateLogger<RangeProposer>());
        var splitter = new RangeSplitter(proposer, directory, host, meta, loggerFactory.CreateLogger<RangeSplitter>());
        var splits = new SplitScheduler(host, splitter, directory, data, options.RangeSplitBytes, TimeSpan.FromMilliseconds(options.SplitCheckIntervalMs),
            loggerFactory.CreateLogger<SplitScheduler>());
        TxnCoordinator? coordinator = null;
        var recoverAfter = TimeSpan.FromMilliseconds(options.TxnRecoverAfterMs);
        coordinator = new TxnCoordinator((ulong)options.NodeId, new TxnRangeRouter(directory, proposer), new HlcTxnClock(clock),
            new TwoPhaseDecisionLog(store), new TwoPhaseDecisionClient((ulong)options.NodeId, channels, () => coordinator!),
            new TxnCoordinatorOptions
            {
                DefaultProtocol = options.TxnCommitProtocol == "two-phase" ? Kv.Proto.V1.CommitProtocol.TwoPhase : Kv.Proto.V1.CommitProtocol.Paxos,
                RecoverAfter = recoverAfter,
                Metrics = telemetry.Transactions,
                FailPoints = failPoints ?? (options.TxnCrashAt.Length > 0 ? new ProcessKillFailPoints(Enum.Parse<TxnStep>(options.TxnCrashAt)) : null),
            },
            loggerFactory.CreateLogger<TxnCoordinator>());
        var sweeper = new TxnSweeper(host, coordinator, clock, recoverAfter, loggerFactory.CreateLogger<TxnSweeper>());
        var localSnapshots = new LocalSnapshots(store, options.DataDirectory);
        var checkpointer = new SnapshotCheckpointer(host, store, localSnapshots);
        var snapshots = new SnapshotCoordinator((ulong)options.NodeId, proposer, directory, host, clock, coordinator, channels, checkpointer,
            loggerFactory.CreateLogger<SnapshotCoordinator>(), telemetry.Snapshots);
        var snapshotSweeper = new SnapshotSweeper(localSnapshots, store, proposer, TimeSpan.FromMilliseconds(options.SnapshotOrphanTimeoutMs),
            loggerFactory.CreateLogger<SnapshotSweeper>());

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new NodeFacts(options.DataDirectory, options.WalDirectory));
        builder.Services.AddSingleton(coordinator);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton<IPeerMessageSink>(host);
        builder.Services.AddSingleton(transport);
        builder.Services.AddSingleton(new PeerLocalNode((ulong)options.NodeId));
        builder.Services.AddSingleton<IRangeLocator>(new DirectoryRangeLocator(directory, addresses));
        builder.Services.AddSingleton(directory);
        builder.Services.AddSingleton(addresses);
        builder.Services.AddSingleton(splitter);
        builder.Services.AddSingleton(proposer);
        builder.Services.AddSingleton(data);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IRangeDataSource>(host);
        builder.Services.AddSingleton(snapshots);
        builder.Services.AddSingleton(checkpointer);
        builder.Services.AddSingleton(new SnapshotReader(localSnapshots, telemetry.Snapshots));
        var app = builder.Build();
        telemetry.StartExporters(app.Services);
        KvServerSetup.UseNodeLogScope(app, options.NodeId);
        KvServerSetup.MapMetricsEndpoints(app, options);
        app.MapGrpcService<KvService>();
        app.MapGrpcService<PeerService>();
        app.MapGrpcService<ReplicationService>();
        app.MapGrpcService<AdminService>();
        app.MapGrpcService<RangeDataService>();
        app.MapGrpcService<TransactionsService>();
        app.MapGrpcService<TwoPhaseCoordinatorService>();
        app.MapGrpcService<SnapshotsService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        await clock.PersistBoundAsync(cancellationToken).ConfigureAwait(false);
        host.Start(TimeSpan.FromMilliseconds(options.TickIntervalMs));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        splits.Start();
        sweeper.Start();
        snapshotSweeper.Start();
        NodeJoiner? joiner = null;
        if (joining)
        {
            joiner = new NodeJoiner((ulong)options.NodeId, options.AdvertisedUrl, options.Join, addresses, loggerFactory.CreateLogger<NodeJoiner>());
            joiner.Start();
        }
        return new KvNode(options, app, store, mvcc, committer, transport, host, splits, channels, joiner, coordinator, sweeper, snapshots, snapshotSweeper) { _telemetry = telemetry };
    }

    /// <summary>
    /// Stops cleanly: hands leadership of its ranges to other voters while the peer streams still work, stops
    /// replication (pending requests fail fast instead of waiting for quorums that cannot form), then serving,
    /// the transport and storage.
    /// </summary>
    public ValueTask DisposeAsync() => StopAsync(handOff: true);

    /// <summary>Stops without handing leadership over, as a crash would leave the cluster (for tests).</summary>
    internal ValueTask CrashAsync() => StopAsync(handOff: false);

    private async ValueTask StopAsync(bool handOff)
    {
        if (_joiner is not null) await _joiner.DisposeAsync().ConfigureAwait(false);
        await _splits.DisposeAsync().ConfigureAwait(false);
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _snapshotSweeper.DisposeAsync().ConfigureAwait(false);
        await _txns.DisposeAsync().ConfigureAwait(false);
        if (handOff) await _host.HandOffLeadershipAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _channels.Dispose();
        await _committer.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _mvcc.Dispose();
        _store.Dispose();
        _telemetry?.Dispose();
    }
}
