using Kv.Server.Clock;

namespace Kv.Server.Configuration;

/// <summary>
/// Everything a node is configured with. The defaults run a single-node cluster on localhost; docs/configuration.md
/// lists each setting with its flag, environment variable and appsettings key. Built by
/// <see cref="NodeConfiguration"/> from those sources, or directly in code (tests, the simulator), and checked by
/// <see cref="Validate"/>.
/// <para>
/// One port: the node serves client, peer and admin gRPC on a single Kestrel HTTP/2 endpoint
/// (<see cref="Listen"/>). One port is one thing to open, route and secure, and gRPC services are already told
/// apart by their path. Metrics are separate (<see cref="MetricsListen"/>) because scrapers speak HTTP/1.1, which a
/// cleartext HTTP/2-only endpoint cannot serve.
/// </para>
/// </summary>
public sealed partial record NodeOptions
{
    private readonly string? _dataDirectory;

    /// <summary>This node's id: positive, unique in the cluster, never reused.</summary>
    public int NodeId { get; init; } = 1;

    /// <summary>Where the node's RocksDB lives. Defaults to ./data/node-&lt;NodeId&gt;.</summary>
    public string DataDirectory
    {
        get => _dataDirectory ?? Path.Combine(".", "data", $"node-{NodeId}");
        init => _dataDirectory = value;
    }

    /// <summary>
    /// Where RocksDB's write-ahead log goes, when not in <see cref="DataDirectory"/> (null, the default, or the same
    /// path): a directory on a device of its own keeps the WAL's fsyncs clear of flushes and compactions, like etcd's
    /// --wal-dir. It must stay with its data directory: the node refuses to start with another database's WAL there.
    /// </summary>
    public string? WalDirectory { get; init; }

    /// <summary>The one HTTP/2 endpoint for client, peer and admin gRPC (an address to bind, e.g. 0.0.0.0 in a pod).</summary>
    public Uri Listen { get; init; } = new("http://127.0.0.1:7100");

    /// <summary>The HTTP/1.1 endpoint for metrics and health scrapes; null disables it.</summary>
    public Uri? MetricsListen { get; init; }

    /// <summary>Where to send traces over OTLP (gRPC), e.g. an OpenTelemetry collector; null (the default) sends none.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>
    /// The members of a new cluster, this node included, used only to bootstrap an empty data directory. Empty means a
    /// single-node cluster.
    /// </summary>
    public IReadOnlyList<PeerEndpoint> Peers { get; init; } = [];

    /// <summary>
    /// URLs of members of an existing cluster to ask to add this node, instead of bootstrapping a new cluster. Used
    /// only with an empty data directory. With <see cref="Peers"/> also set, only a node that is not among the peers
    /// joins (<see cref="JoinsExistingCluster"/>): every pod of a StatefulSet can then share one environment.
    /// </summary>
    public IReadOnlyList<Uri> Join { get; init; } = [];

    /// <summary>
    /// The URL other nodes and clients reach this node at, when it differs from <see cref="Listen"/> (which is an
    /// address to bind, e.g. 0.0.0.0 in a pod). Null: this node's entry in <see cref="Peers"/>, else Listen.
    /// </summary>
    public Uri? Advertise { get; init; }

    /// <summary>
    /// Whether a node with an empty data directory asks <see cref="Join"/> to add it rather than writing the genesis
    /// of a new cluster: Join is set and this node is not one of the initial <see cref="Peers"/>.
    /// </summary>
    public bool JoinsExistingCluster => Join.Count > 0 && !Peers.Any(p => p.NodeId == NodeId);

    /// <summary>
    /// Where this node tells the cluster it can be reached: <see cref="Advertise"/>, else its own entry in
    /// <see cref="Peers"/>, else <see cref="Listen"/>.
    /// </summary>
    public Uri AdvertisedUrl => Advertise ?? Peers.FirstOrDefault(p => p.NodeId == NodeId)?.Url ?? Listen;

    /// <summary>The period of the Paxos tick: every protocol timeout is a whole number of ticks.</summary>
    public int TickIntervalMs { get; init; } = 10;

    /// <summary>Ticks without hearing a leader before a follower campaigns (default 1 s at the default tick).</summary>
    public int ElectionTimeoutTicks { get; init; } = 100;

    /// <summary>Ticks between a leader's heartbeats (default 100 ms at the default tick).</summary>
    public int HeartbeatIntervalTicks { get; init; } = 10;

    /// <summary>
    /// ρ: every node's tick rate stays within (1 ± ρ) of real time. Leases are shortened by it (src/Kv.Paxos/PAXOS.md §5).
    /// </summary>
    public double ClockDriftBound { get; init; } = 0.1;

    /// <summary>
    /// The most a peer's timestamp may lead this node's wall clock before it is refused: the cluster's maximum clock
    /// offset (<see cref="HybridLogicalClockOptions.ForwardJumpNanosMax"/>).
    /// </summary>
    public int ClockForwardJumpMsMax { get; init; } = 500;

    /// <summary>
    /// How far ahead the clock's upper bound is persisted (<see cref="HybridLogicalClockOptions.PersistAheadNanos"/>);
    /// below <see cref="ClockForwardJumpMsMax"/>.
    /// </summary>
    public int ClockPersistAheadMs { get; init; } = 200;

    /// <summary>The largest key accepted, in bytes.</summary>
    public int KeyBytesMax { get; init; } = 4 * 1024;

    /// <summary>The largest value accepted, in bytes.</summary>
    public int ValueBytesMax { get; init; } = 4 * 1024 * 1024;

    /// <summary>A range is split once its data exceeds this many bytes.</summary>
    public long RangeSplitBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How often a node checks the ranges it leads for size (and repairs stale meta entries).</summary>
    public int SplitCheckIntervalMs { get; init; } = 10_000;

    /// <summary>A range replica compacts its log into a snapshot once this many applied entries follow the last one.</summary>
    public int LogCompactionEntries { get; init; } = 10_000;

    /// <summary>
    /// A range replica also compacts its log once the entries it holds in memory reach this many bytes. Under load
    /// one entry carries many writes (a Paxos round's worth), so 10,000 entries of a busy range held tens of MB of
    /// a node's heap (bench/results/kv-vs-etcd.md, memory).
    /// </summary>
    public long LogCompactionBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>How transactions commit when the client asks for the default: <c>paxos</c> (Paxos commit) or <c>two-phase</c> (the 2PC baseline).</summary>
    public string TxnCommitProtocol { get; init; } = "paxos";

    /// <summary>How long a transaction may hold a lock before whoever meets it finishes the transaction (its coordinator is presumed gone).</summary>
    public int TxnRecoverAfterMs { get; init; } = 1_000;

    /// <summary>
    /// Testing only: the coordinator step (<c>BeforeStage</c>, <c>BetweenStages</c>, <c>AfterStagesBeforeDecision</c>,
    /// <c>AfterDecisionBeforePublish</c>, <c>DuringPublish</c>) at which this node kills its own process, as a crash
    /// would. Empty: never.
    /// </summary>
    public string TxnCrashAt { get; init; } = "";

    /// <summary>
    /// How long a snapshot's hidden pieces and checkpoints may wait for their manifest before the node's sweeper
    /// aborts the snapshot and removes them (docs/snapshots.md).
    /// </summary>
    public int SnapshotOrphanTimeoutMs { get; init; } = 60_000;

    /// <summary>
    /// A backup directory (<c>kvctl snapshot export</c>) to start a new cluster from instead of the empty genesis:
    /// read only when the data directory is empty (or was restored from the same backup). Empty: none.
    /// </summary>
    public string RestoreFrom { get; init; } = "";

    /// <summary>The hybrid logical clock's limits, in its units.</summary>
    public HybridLogicalClockOptions ToClockOptions() => new()
    {
        ForwardJumpNanosMax = ClockForwardJumpMsMax * 1_000_000L,
        PersistAheadNanos = ClockPersistAheadMs * 1_000_000L,
    };
}
