using System.Diagnostics;

namespace Kv.Server.Admin;

/// <summary>When the node started serving, for <c>Admin.NodeStatus</c> (one per node, so the dev cluster's three differ).</summary>
public sealed class NodeUptime
{
    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Time since the node was created.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startedTimestamp);
}
