using System.Diagnostics;

namespace Kv.Server.Admin;

/// <summary>
/// What <c>Admin.NodeStatus</c> says about the node itself: how long it has run (one per node, so the dev cluster's
/// three differ) and the size of its data directory (with its separate WAL directory, if any), counted at most every
/// <see cref="DiskUsageRefresh"/>: the status is polled (by load runs, every 200 ms) and replica restores ask it too,
/// so it must stay cheap.
/// </summary>
public sealed class NodeFacts(string dataDirectory, string? walDirectory = null)
{
    /// <summary>How long a counted size is reused.</summary>
    public static readonly TimeSpan DiskUsageRefresh = TimeSpan.FromSeconds(2);

    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();
    private readonly Lock _gate = new();
    private readonly string[] _counted = CountedDirectories(dataDirectory, walDirectory);
    private long _countedTimestamp;
    private long _dataDirectoryBytes;

    /// <summary>The data directory, as an absolute path.</summary>
    public string DataDirectory { get; } = Path.GetFullPath(dataDirectory);

    /// <summary>Time since the node was created.</summary>
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedTimestamp);

    /// <summary>
    /// Bytes of every file under the data directory and under the separate WAL directory (the node's whole database),
    /// at most <see cref="DiskUsageRefresh"/> old.
    /// </summary>
    public long DataDirectoryBytes
    {
        get
        {
            lock (_gate)
            {
                if (_countedTimestamp == 0 || Stopwatch.GetElapsedTime(_countedTimestamp) >= DiskUsageRefresh)
                {
                    _dataDirectoryBytes = _counted.Sum(DataDirectorySize.Bytes);
                    _countedTimestamp = Stopwatch.GetTimestamp();
                }
                return _dataDirectoryBytes;
            }
        }
    }

    /// <summary>The data directory, and the WAL directory unless one of them holds the other (its files would count twice).</summary>
    internal static string[] CountedDirectories(string dataDirectory, string? walDirectory)
    {
        string data = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        if (walDirectory is null) return [data];
        string wal = Path.TrimEndingDirectorySeparator(Path.GetFullPath(walDirectory));
        if (IsSameOrUnder(wal, data)) return [data];
        if (IsSameOrUnder(data, wal)) return [wal];
        return [data, wal];
    }

    private static bool IsSameOrUnder(string path, string directory) =>
        path == directory || path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
