namespace Kv.Server.Ranges;

/// <summary>
/// Meta-column-family keys of a range replica's state machine, written in the same batch as the data they
/// describe so that "applied up to", the descriptor and the client sessions never disagree with the MVCC data
/// after a crash.
/// </summary>
internal static class RangeStateKeys
{
    public static string Applied(ulong rangeId) => $"applied/{rangeId:D20}";

    public static string SessionPrefix(ulong rangeId) => $"session/{rangeId:D20}/";

    public static string Session(ulong rangeId, long clientId) => $"{SessionPrefix(rangeId)}{clientId:D20}";

    /// <summary>The replica's <c>RangeState</c> (its descriptor as of the last applied split).</summary>
    public static string State(ulong rangeId) => $"range-state/{rangeId:D20}";

    /// <summary>The meta range's directory: one descriptor per range.</summary>
    public const string DirectoryPrefix = "meta-range/descriptor/";

    public static string DirectoryEntry(ulong rangeId) => $"{DirectoryPrefix}{rangeId:D20}";

    /// <summary>The meta range's node registry: one <c>NodeInfo</c> per node.</summary>
    public const string NodePrefix = "meta-range/node/";

    public static string Node(ulong nodeId) => $"{NodePrefix}{nodeId:D20}";

    /// <summary>The meta range's next unreserved range id.</summary>
    public const string NextRangeId = "meta-range/next-range-id";

    /// <summary>The meta range's published snapshot manifests, by id.</summary>
    public const string SnapshotManifestPrefix = "meta-range/snapshot/";

    public static string SnapshotManifest(string id) => $"{SnapshotManifestPrefix}{id}";

    /// <summary>The meta range's aborted (or deleted) snapshot ids: never published (again).</summary>
    public const string SnapshotAbortedPrefix = "meta-range/snapshot-aborted/";

    public static string SnapshotAborted(string id) => $"{SnapshotAbortedPrefix}{id}";

    /// <summary>A user range replica's hidden snapshot pieces: <c>snapshot-piece/&lt;id&gt;/&lt;range&gt;</c>.</summary>
    public const string SnapshotPiecePrefix = "snapshot-piece/";

    public static string SnapshotPieces(string id) => $"{SnapshotPiecePrefix}{id}/";

    public static string SnapshotPiece(string id, ulong rangeId) => $"{SnapshotPieces(id)}{rangeId:D20}";
}
