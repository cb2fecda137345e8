namespace Kv.Server.Configuration;

/// <summary>One setting's name in each source: the appsettings key (under "Kv"), the flag and the environment variable.</summary>
internal sealed record NodeSetting(string Key, string Flag, string EnvironmentVariable)
{
    /// <summary>The path in <see cref="Microsoft.Extensions.Configuration.IConfiguration"/>, e.g. "Kv:NodeId".</summary>
    public string ConfigurationPath => $"{NodeConfiguration.SectionName}:{Key}";

    /// <summary>Where an operator sets it, for error messages.</summary>
    public string Hint => $"{Flag}, {EnvironmentVariable} or {ConfigurationPath}";
}

/// <summary>
/// Every setting, in one table, so that the sources, the error messages and docs/configuration.md agree (a test
/// checks the document against it). Environment variable names must not start with KV_SERVICE_ or KV_PORT:
/// Kubernetes injects those for a Service named "kv".
/// </summary>
internal static class NodeSettings
{
    public static readonly NodeSetting NodeId = new("NodeId", "--node-id", "KV_NODE_ID");
    public static readonly NodeSetting NodeOrdinal = new("NodeOrdinal", "--node-ordinal", "KV_NODE_ORDINAL");
    public static readonly NodeSetting DataDirectory = new("DataDirectory", "--data-dir", "KV_DATA_DIR");
    public static readonly NodeSetting WalDirectory = new("WalDirectory", "--wal-dir", "KV_WAL_DIR");
    public static readonly NodeSetting Listen = new("Listen", "--listen", "KV_LISTEN");
    public static readonly NodeSetting MetricsListen = new("MetricsListen", "--metrics-listen", "KV_METRICS_LISTEN");
    public static readonly NodeSetting OtlpEndpoint = new("OtlpEndpoint", "--otlp-endpoint", "KV_OTLP_ENDPOINT");
    public static readonly NodeSetting Peers = new("Peers", "--peers", "KV_PEERS");
    public static readonly NodeSetting Join = new("Join", "--join", "KV_JOIN");
    public static readonly NodeSetting Advertise = new("Advertise", "--advertise", "KV_ADVERTISE");
    public static readonly NodeSetting TickIntervalMs = new("TickIntervalMs", "--tick-interval-ms", "KV_TICK_INTERVAL_MS");
    public static readonly NodeSetting ElectionTimeoutTicks = new("ElectionTimeoutTicks", "--election-timeout-ticks", "KV_ELECTION_TIMEOUT_TICKS");
    public static readonly NodeSetting HeartbeatIntervalTicks = new("HeartbeatIntervalTicks", "--heartbeat-interval-ticks", "KV_HEARTBEAT_INTERVAL_TICKS");
    public static readonly NodeSetting ClockDriftBound = new("ClockDriftBound", "--clock-drift-bound", "KV_CLOCK_DRIFT_BOUND");
    public static readonly NodeSetting ClockForwardJumpMsMax = new("ClockForwardJumpMsMax", "--clock-forward-jump-ms-max", "KV_CLOCK_FORWARD_JUMP_MS_MAX");
    public static readonly NodeSetting ClockPersistAheadMs = new("ClockPersistAheadMs", "--clock-persist-ahead-ms", "KV_CLOCK_PERSIST_AHEAD_MS");
    public static readonly NodeSetting KeyBytesMax = new("KeyBytesMax", "--key-bytes-max", "KV_KEY_BYTES_MAX");
    public static readonly NodeSetting ValueBytesMax = new("ValueBytesMax", "--value-bytes-max", "KV_VALUE_BYTES_MAX");
    public static readonly NodeSetting RangeSplitBytes = new("RangeSplitBytes", "--range-split-bytes", "KV_RANGE_SPLIT_BYTES");
    public static readonly NodeSetting SplitCheckIntervalMs = new("SplitCheckIntervalMs", "--split-check-interval-ms", "KV_SPLIT_CHECK_INTERVAL_MS");
    public static readonly NodeSetting LogCompactionEntries = new("LogCompactionEntries", "--log-compaction-entries", "KV_LOG_COMPACTION_ENTRIES");
    public static readonly NodeSetting LogCompactionBytes = new("LogCompactionBytes", "--log-compaction-bytes", "KV_LOG_COMPACTION_BYTES");
    public static readonly NodeSetting TxnCommitProtocol = new("TxnCommitProtocol", "--txn-commit-protocol", "KV_TXN_COMMIT_PROTOCOL");
    public static readonly NodeSetting TxnRecoverAfterMs = new("TxnRecoverAfterMs", "--txn-recover-after-ms", "KV_TXN_RECOVER_AFTER_MS");
    public static readonly NodeSetting TxnCrashAt = new("TxnCrashAt", "--txn-crash-at", "KV_TXN_CRASH_AT");
    public static readonly NodeSetting RestoreFrom = new("RestoreFrom", "--restore-from", "KV_RESTORE_FROM");
    public static readonly NodeSetting SnapshotOrphanTimeoutMs = new("SnapshotOrphanTimeoutMs", "--snapshot-orphan-timeout-ms", "KV_SNAPSHOT_ORPHAN_TIMEOUT_MS");

    public static IReadOnlyList<NodeSetting> All { get; } =
    [
        NodeId, NodeOrdinal, DataDirectory, WalDirectory, Listen, MetricsListen, OtlpEndpoint, Peers, Join, Advertise,
        TickIntervalMs, ElectionTimeoutTicks, HeartbeatIntervalTicks,
        ClockDriftBound, ClockForwardJumpMsMax, ClockPersistAheadMs,
        KeyBytesMax, ValueBytesMax, RangeSplitBytes, SplitCheckIntervalMs, LogCompactionEntries, LogCompactionBytes,
        TxnCommitProtocol, TxnRecoverAfterMs, TxnCrashAt, SnapshotOrphanTimeoutMs, RestoreFrom,
    ];
}
