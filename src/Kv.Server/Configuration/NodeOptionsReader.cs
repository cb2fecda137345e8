using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Kv.Server.Configuration;

/// <summary>
/// Turns the "Kv" section of a configuration into <see cref="NodeOptions"/>: an unset setting keeps its default, and
/// a value that does not parse becomes a problem naming the value, where it came from and how to set it.
/// </summary>
internal sealed class NodeOptionsReader(IConfiguration configuration, List<string> problems)
{
    private static readonly NodeOptions Defaults = new();

    public NodeOptions Read()
    {
        NodeOptions options = ReadAllButDataDirectory();
        // Unset, the data directory stays derived from the node id.
        return Raw(NodeSettings.DataDirectory) is { } dataDirectory ? options with { DataDirectory = dataDirectory } : options;
    }

    private NodeOptions ReadAllButDataDirectory() => new()
    {
        NodeId = ReadNodeId(),
        WalDirectory = Raw(NodeSettings.WalDirectory) is { Length: > 0 } walDirectory ? walDirectory : null,
        Listen = Url(NodeSettings.Listen) ?? Defaults.Listen,
        MetricsListen = Raw(NodeSettings.MetricsListen) is { Length: 0 } ? null : Url(NodeSettings.MetricsListen),
        OtlpEndpoint = Raw(NodeSettings.OtlpEndpoint) is { Length: 0 } ? null : Url(NodeSettings.OtlpEndpoint),
        Peers = ReadPeers(),
        Join = [.. Items(NodeSettings.Join).Select(item => ParseUrl(NodeSettings.Join, item)).OfType<Uri>()],
        Advertise = Raw(NodeSettings.Advertise) is { Length: 0 } ? null : Url(NodeSettings.Advertise),
        TickIntervalMs = Int(NodeSettings.TickIntervalMs) ?? Defaults.TickIntervalMs,
        ElectionTimeoutTicks = Int(NodeSettings.ElectionTimeoutTicks) ?? Defaults.ElectionTimeoutTicks,
        HeartbeatIntervalTicks = Int(NodeSettings.HeartbeatIntervalTicks) ?? Defaults.HeartbeatIntervalTicks,
        ClockDriftBound = Double(NodeSettings.ClockDriftBound) ?? Defaults.ClockDriftBound,
        ClockForwardJumpMsMax = Int(NodeSettings.ClockForwardJumpMsMax) ?? Defaults.ClockForwardJumpMsMax,
        ClockPersistAheadMs = Int(NodeSettings.ClockPersistAheadMs) ?? Defaults.ClockPersistAheadMs,
        KeyBytesMax = Int(NodeSettings.KeyBytesMax) ?? Defaults.KeyBytesMax,
        ValueBytesMax = Int(NodeSettings.ValueBytesMax) ?? Defaults.ValueBytesMax,
        RangeSplitBytes = Long(NodeSettings.RangeSplitBytes) ?? Defaults.RangeSplitBytes,
        SplitCheckIntervalMs = Int(NodeSettings.SplitCheckIntervalMs) ?? Defaults.SplitCheckIntervalMs,
        LogCompactionEntries = Int(NodeSettings.LogCompactionEntries) ?? Defaults.LogCompactionEntries,
        LogCompactionBytes = Long(NodeSettings.LogCompactionBytes) ?? Defaults.LogCompactionBytes,
        TxnCommitProtocol = Raw(NodeSettings.TxnCommitProtocol)?.Trim().ToLowerInvariant() ?? Defaults.TxnCommitProtocol,
        TxnRecoverAfterMs = Int(NodeSettings.TxnRecoverAfterMs) ?? Defaults.TxnRecoverAfterMs,
        TxnCrashAt = Raw(NodeSettings.TxnCrashAt)?.Trim() ?? Defaults.TxnCrashAt,
        SnapshotOrphanTimeoutMs = Int(NodeSettings.SnapshotOrphanTimeoutMs) ?? Defaults.SnapshotOrphanTimeoutMs,
        RestoreFrom = Raw(NodeSettings.RestoreFrom)?.Trim() ?? Defaults.RestoreFrom,
    };

    /// <summary>
    /// NodeId, or NodeOrdinal + 1: a StatefulSet can hand each pod its ordinal (0, 1, …) but not compute an id from
    /// it, and node ids are positive. The ordinal may also be given as the pod name (kv-2), for clusters without the
    /// pod-index label.
    /// </summary>
    private int ReadNodeId()
    {
        string? ordinalRaw = Raw(NodeSettings.NodeOrdinal);
        if (ordinalRaw is null) return Int(NodeSettings.NodeId) ?? Defaults.NodeId;
        if (Raw(NodeSettings.NodeId) is not null)
        {
            problems.Add($"{NodeSettings.NodeId.Key} (from {Origin(NodeSettings.NodeId)}) and {NodeSettings.NodeOrdinal.Key} "
                + $"(from {Origin(NodeSettings.NodeOrdinal)}) are both set; set one.");
            return Defaults.NodeId;
        }
        string trimmed = ordinalRaw.Trim();
        int dash = trimmed.LastIndexOf('-');
        string digits = dash > 0 ? trimmed[(dash + 1)..] : trimmed; // a leading '-' is a sign, not a pod name
        if (digits.Length > 0 && digits.All(char.IsAsciiDigit)
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int ordinal) && ordinal < int.MaxValue)
            return ordinal + 1;
        Problem(NodeSettings.NodeOrdinal, ordinalRaw, "is neither a non-negative whole number nor a pod name ending in one (kv-2)");
        return Defaults.NodeId;
    }

    private List<PeerEndpoint> ReadPeers()
    {
        var peers = new List<PeerEndpoint>();
        foreach (string item in Items(NodeSettings.Peers))
        {
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0
                || !int.TryParse(item.AsSpan(0, equals).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int id))
            {
                Problem(NodeSettings.Peers, item, "is not id=url (like 1=http://kv-0:7100)");
                continue;
            }
            if (ParseUrl(NodeSettings.Peers, item[(equals + 1)..].Trim()) is { } url) peers.Add(new PeerEndpoint(id, url));
        }
        return peers;
    }

    /// <summary>
    /// A list setting's items: a comma-separated string from any source, or (in appsettings.json) a JSON array.
    /// The string wins if both are present, since only a higher-precedence source sets it over an array.
    /// </summary>
    private IEnumerable<string> Items(NodeSetting setting)
    {
        IConfigurationSection section = configuration.GetSection(setting.ConfigurationPath);
        IEnumerable<string?> raw = section.Value is { } joined ? joined.Split(',') : section.GetChildren().Select(c => c.Value);
        return raw.Select(item => item?.Trim()).OfType<string>().Where(item => item.Length > 0);
    }

    private string? Raw(NodeSetting setting) => configuration[setting.ConfigurationPath];

    private int? Int(NodeSetting setting) =>
        Raw(setting) is not { } raw ? null
        : int.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value
        : Invalid<int>(setting, raw, "is not a whole number");

    private long? Long(NodeSetting setting) =>
        Raw(setting) is not { } raw ? null
        : long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
        : Invalid<long>(setting, raw, "is not a whole number");

    private double? Double(NodeSetting setting) =>
        Raw(setting) is not { } raw ? null
        : double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
        : Invalid<double>(setting, raw, "is not a number");

    private Uri? Url(NodeSetting setting) => Raw(setting) is { } raw ? ParseUrl(setting, raw.Trim()) : null;

    private Uri? ParseUrl(NodeSetting setting, string raw)
    {
        if (Uri.TryCreate(raw, UriKind.Absolute, out Uri? url)) return url;
        Problem(setting, raw, "is not an absolute URL (like http://127.0.0.1:7100)");
        return null;
    }

    private T? Invalid<T>(NodeSetting setting, string raw, string what) where T : struct
    {
        Problem(setting, raw, what);
        return null;
    }

    private void Problem(NodeSetting setting, string raw, string what) =>
        problems.Add($"{setting.Key}: '{raw}' from {Origin(setting)} {what} (set with {setting.Hint}).");

    /// <summary>The source whose value wins for <paramref name="setting"/>, named as an operator would fix it.</summary>
    private string Origin(NodeSetting setting)
    {
        string path = setting.ConfigurationPath;
        if (configuration is not IConfigurationRoot root) return $"configuration key {path}";
        foreach (IConfigurationProvider provider in root.Providers.Reverse())
        {
            bool has = provider.TryGet(path, out _) || provider.GetChildKeys([], path).Any();
            if (!has) continue;
            return provider switch
            {
                MappedSettingsSource.Provider mapped => mapped.OriginOf(path) ?? path,
                FileConfigurationProvider file =>
                    $"{file.Source.FileProvider?.GetFileInfo(file.Source.Path ?? "").PhysicalPath ?? file.Source.Path} key {path}",
                _ => $"{provider} key {path}",
            };
        }
        return $"configuration key {path}";
    }
}
