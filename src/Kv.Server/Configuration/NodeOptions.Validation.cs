using System.Globalization;

namespace Kv.Server.Configuration;

/// <summary>Checks that reject settings the node cannot run with, each with a message naming where to fix it.</summary>
public sealed partial record NodeOptions
{
    /// <summary>Every problem with these settings; empty if they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Problem(NodeSetting setting, string what) => problems.Add($"{setting.Key}: {what} (set with {setting.Hint}).");

        if (NodeId <= 0) Problem(NodeSettings.NodeId, $"must be positive, got {NodeId}");
        if (string.IsNullOrWhiteSpace(DataDirectory)) Problem(NodeSettings.DataDirectory, "must not be empty");
        if (WalDirectory is not null && string.IsNullOrWhiteSpace(WalDirectory))
            Problem(NodeSettings.WalDirectory, "must not be blank; leave it unset (or empty) to keep the WAL in the data directory");

        if (CheckUrl(Listen, mustBeDialable: false) is { } listenProblem) Problem(NodeSettings.Listen, listenProblem);
        if (MetricsListen is not null)
        {
            if (CheckUrl(MetricsListen, mustBeDialable: false) is { } metricsProblem) Problem(NodeSettings.MetricsListen, metricsProblem);
            else if (Listen.IsAbsoluteUri && MetricsListen.Port == Listen.Port)
                Problem(NodeSettings.MetricsListen, $"must use another port than {NodeSettings.Listen.Key} ({Listen.Port})");
        }

        if (OtlpEndpoint is not null && CheckUrl(OtlpEndpoint, mustBeDialable: true) is { } otlpProblem)
            Problem(NodeSettings.OtlpEndpoint, $"{otlpProblem} (an OTLP/gRPC collector, like http://otel-collector:4317)");

        ValidatePeers(Problem);

        foreach (Uri url in Join)
            if (CheckUrl(url, mustBeDialable: true) is { } joinProblem) Problem(NodeSettings.Join, $"'{url.OriginalString}' {joinProblem}");
        ValidateAdvertise(Problem);

        if (TickIntervalMs <= 0) Problem(NodeSettings.TickIntervalMs, $"must be positive, got {TickIntervalMs}");
        if (ElectionTimeoutTicks < 2) Problem(NodeSettings.ElectionTimeoutTicks, $"must be at least 2, got {ElectionTimeoutTicks}");
        if (HeartbeatIntervalTicks < 1 || HeartbeatIntervalTicks >= ElectionTimeoutTicks)
            Problem(NodeSettings.HeartbeatIntervalTicks, $"must be at least 1 and below {NodeSettings.ElectionTimeoutTicks.Key} ({ElectionTimeoutTicks}), got {HeartbeatIntervalTicks}");
        if (!(ClockDriftBound is >= 0 and < 1))
            Problem(NodeSettings.ClockDriftBound, $"must be at least 0 and below 1, got {ClockDriftBound.ToString(CultureInfo.InvariantCulture)}");

        if (ClockForwardJumpMsMax <= 0) Problem(NodeSettings.ClockForwardJumpMsMax, $"must be positive, got {ClockForwardJumpMsMax}");
        if (ClockPersistAheadMs <= 0) Problem(NodeSettings.ClockPersistAheadMs, $"must be positive, got {ClockPersistAheadMs}");
        else if (ClockPersistAheadMs >= ClockForwardJumpMsMax)
            Problem(NodeSettings.ClockPersistAheadMs, $"must be below {NodeSettings.ClockForwardJumpMsMax.Key} ({ClockForwardJumpMsMax}), or peers refuse a restarted node's timestamps; got {ClockPersistAheadMs}");

        if (KeyBytesMax <= 0) Problem(NodeSettings.KeyBytesMax, $"must be positive, got {KeyBytesMax}");
        if (ValueBytesMax <= 0) Problem(NodeSettings.ValueBytesMax, $"must be positive, got {ValueBytesMax}");
        if (RangeSplitBytes <= 0) Problem(NodeSettings.RangeSplitBytes, $"must be positive, got {RangeSplitBytes}");
        else if (KeyBytesMax > 0 && ValueBytesMax > 0 && RangeSplitBytes < (long)KeyBytesMax + ValueBytesMax)
            Problem(NodeSettings.RangeSplitBytes, $"must hold at least one largest key and value ({(long)KeyBytesMax + ValueBytesMax} bytes), got {RangeSplitBytes}");
        if (SplitCheckIntervalMs < 100) Problem(NodeSettings.SplitCheckIntervalMs, $"must be at least 100, got {SplitCheckIntervalMs}");
        if (LogCompactionEntries < 1) Problem(NodeSettings.LogCompactionEntries, $"must be positive, got {LogCompactionEntries}");
        if (LogCompactionBytes < 1) Problem(NodeSettings.LogCompactionBytes, $"must be positive, got {LogCompactionBytes}");
        if (TxnCommitProtocol is not ("paxos" or "two-phase"))
            Problem(NodeSettings.TxnCommitProtocol, $"must be paxos or two-phase, got '{TxnCommitProtocol}'");
        if (TxnRecoverAfterMs < 10) Problem(NodeSettings.TxnRecoverAfterMs, $"must be at least 10, got {TxnRecoverAfterMs}");
        if (TxnCrashAt.Length > 0 && !Enum.TryParse<Kv.Txn.Coordination.TxnStep>(TxnCrashAt, out _))
            Problem(NodeSettings.TxnCrashAt, $"must be empty or one of {string.Join(", ", Enum.GetNames<Kv.Txn.Coordination.TxnStep>())}, got '{TxnCrashAt}'");
        if (RestoreFrom.Length > 0 && Join.Count > 0)
            Problem(NodeSettings.RestoreFrom, $"a restore starts a new cluster; it cannot be combined with {NodeSettings.Join.Key}");
        else if (RestoreFrom.Length > 0 && !File.Exists(Path.Combine(RestoreFrom, Kv.Backup.BackupManifest.FileName)))
            Problem(NodeSettings.RestoreFrom, $"'{RestoreFrom}' holds no {Kv.Backup.BackupManifest.FileName}: give the directory of a finished snapshot export");
        if (SnapshotOrphanTimeoutMs < 1_000) Problem(NodeSettings.SnapshotOrphanTimeoutMs, $"must be at least 1000, got {SnapshotOrphanTimeoutMs}");

        return problems;
    }

    /// <summary>Returns these settings if valid; otherwise throws a <see cref="NodeOptionsException"/> listing every problem.</summary>
    public NodeOptions EnsureValid()
    {
        IReadOnlyList<string> problems = Validate();
        return problems.Count == 0 ? this : throw new NodeOptionsException(problems);
    }

    private void ValidatePeers(Action<NodeSetting, string> problem)
    {
        var ids = new HashSet<int>();
        var urls = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (PeerEndpoint peer in Peers)
        {
            if (peer.NodeId <= 0) problem(NodeSettings.Peers, $"node ids must be positive, got '{peer}'");
            if (!ids.Add(peer.NodeId)) problem(NodeSettings.Peers, $"node id {peer.NodeId} appears more than once");
            if (CheckUrl(peer.Url, mustBeDialable: true) is { } urlProblem) problem(NodeSettings.Peers, $"'{peer}': {urlProblem}");
            else if (!urls.Add(peer.Url.GetLeftPart(UriPartial.Authority)))
                problem(NodeSettings.Peers, $"{peer.Url.GetLeftPart(UriPartial.Authority)} is given for more than one node");
        }
        // With Join set, a node outside Peers joins the cluster they bootstrapped (JoinsExistingCluster).
        if (Peers.Count > 0 && !ids.Contains(NodeId) && Join.Count == 0)
            problem(NodeSettings.Peers, $"must include this node ({NodeSettings.NodeId.Key} {NodeId}), or set {NodeSettings.Join.Key} so that it joins "
                + $"the cluster they form; the ids given are {string.Join(", ", ids.Order())}");
    }

    /// <summary>
    /// The URL a node registers when it joins must be reachable by the others: Advertise if set (and then the same
    /// as the node's own entry in Peers, which the other members already use), else Listen, which in a pod binds
    /// the wildcard address.
    /// </summary>
    private void ValidateAdvertise(Action<NodeSetting, string> problem)
    {
        if (Advertise is not null)
        {
            if (CheckUrl(Advertise, mustBeDialable: true) is { } advertiseProblem)
                problem(NodeSettings.Advertise, $"'{Advertise.OriginalString}' {advertiseProblem}");
            else if (Peers.FirstOrDefault(p => p.NodeId == NodeId) is { } self
                && !string.Equals(self.Url.GetLeftPart(UriPartial.Authority), Advertise.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
                problem(NodeSettings.Advertise, $"'{Advertise.OriginalString}' differs from this node's entry in {NodeSettings.Peers.Key} ({self})");
        }
        else if (JoinsExistingCluster && Listen.IsAbsoluteUri && Listen.Host is "0.0.0.0" or "[::]")
        {
            problem(NodeSettings.Advertise, $"a joining node tells the cluster where to reach it, and {NodeSettings.Listen.Key} ({Listen}) "
                + "binds a wildcard address; set it to this node's reachable URL (like http://kv-3.kv-peers:7100)");
        }
    }

    /// <summary>
    /// Why <paramref name="url"/> cannot serve as a gRPC endpoint, or null. A dialable URL (a peer's) must name a
    /// host others can reach, so not the wildcard addresses that a listener may bind.
    /// </summary>
    private static string? CheckUrl(Uri url, bool mustBeDialable)
    {
        if (!url.IsAbsoluteUri) return "must be an absolute URL like http://host:7100";
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) return $"must be http or https, got {url.Scheme}";
        if (string.IsNullOrEmpty(url.Host)) return "must name a host";
        if (url.AbsolutePath != "/" || url.Query.Length > 0 || url.Fragment.Length > 0) return "must have no path, query or fragment";
        if (mustBeDialable && url.Host is "0.0.0.0" or "[::]")
            return $"must name a reachable host, not the wildcard {url.Host}";
        return null;
    }
}
