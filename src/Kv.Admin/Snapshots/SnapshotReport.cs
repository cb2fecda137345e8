using Kv.Admin.Commands;
using Kv.Admin.Data;
using Kv.Backup;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Snapshots;

/// <summary>One range of a snapshot as <c>snapshot show</c> reports it.</summary>
/// <param name="RangeId">The range id in the source cluster.</param>
/// <param name="StartKey">First key in --encoding ("" from the start of the key space).</param>
/// <param name="EndKey">End key (exclusive) in --encoding; null: to the end of the key space.</param>
/// <param name="NodeIds">Nodes whose checkpoint holds the range's data.</param>
/// <param name="ApproximateSizeBytes">Approximate bytes of the range's data when the snapshot was taken.</param>
public sealed record SnapshotRangeReport(ulong RangeId, string StartKey, string? EndKey, IReadOnlyList<ulong> NodeIds, long ApproximateSizeBytes);

/// <summary>A published snapshot as <c>snapshot create|list|show</c> report it (also its JSON shape).</summary>
/// <param name="Name">Its name.</param>
/// <param name="Id">Its id (the name of the nodes' checkpoint directories).</param>
/// <param name="Timestamp">The cluster timestamp whose data it holds.</param>
/// <param name="CreatedUnixMs">Wall-clock time of publication.</param>
/// <param name="Ranges">Its ranges in key order.</param>
/// <param name="TotalSizeBytes">The sum of the ranges' approximate sizes.</param>
public sealed record SnapshotReport(string Name, string Id, DataCommands.VersionDocument Timestamp, long CreatedUnixMs,
    IReadOnlyList<SnapshotRangeReport> Ranges, long TotalSizeBytes)
{
    /// <summary>The report of a manifest, keys in <paramref name="encoding"/>.</summary>
    public static SnapshotReport From(Wire.SnapshotManifest manifest, ByteEncoding encoding)
    {
        var ranges = manifest.Ranges.OrderBy(r => r.Range.StartKey.Span.ToArray(), ByteOrder.Instance).Select(r => new SnapshotRangeReport(
            r.Range.RangeId, ByteCodec.Format(r.Range.StartKey.Span, encoding), r.Range.EndKey.IsEmpty ? null : ByteCodec.Format(r.Range.EndKey.Span, encoding),
            [.. r.NodeIds.Order()], (long)r.ApproximateSizeBytes)).ToArray();
        return new SnapshotReport(manifest.Name, manifest.Id,
            new DataCommands.VersionDocument(manifest.Timestamp?.WallNanos ?? 0, manifest.Timestamp?.Logical ?? 0), manifest.CreatedUnixMs,
            ranges, ranges.Sum(r => r.ApproximateSizeBytes));
    }

    /// <summary>The snapshot timestamp for tables (UTC wall time).</summary>
    public string DisplayTimestamp => DataCommands.Display(new Kv.Client.KvVersion(Timestamp.WallNanos, Timestamp.Logical));

    /// <summary>Orders byte strings as keys sort (unsigned, shorter first on a common prefix).</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>One data file of a backup directory, as <c>snapshot export|verify|restore</c> report it.</summary>
/// <param name="RangeId">The range id in the source cluster.</param>
/// <param name="File">The file's name in the backup directory.</param>
/// <param name="SizeBytes">Its length.</param>
/// <param name="Entries">Keys it holds.</param>
/// <param name="Sha256">Its SHA-256 (lowercase hex), checked.</param>
public sealed record BackupFileReport(ulong RangeId, string File, long SizeBytes, long Entries, string Sha256);

/// <summary>A verified backup directory (the JSON shape of <c>snapshot export</c> and <c>snapshot verify</c>).</summary>
/// <param name="Directory">The backup directory (full path).</param>
/// <param name="Name">The snapshot's name.</param>
/// <param name="SnapshotId">The snapshot's id in the source cluster.</param>
/// <param name="Timestamp">The snapshot's timestamp.</param>
/// <param name="Files">Its data files, every checksum verified.</param>
/// <param name="TotalBytes">The sum of their lengths.</param>
/// <param name="Verified">Always true: a failed verification prints an error instead (exit code 1).</param>
public sealed record BackupReport(string Directory, string Name, string SnapshotId, DataCommands.VersionDocument Timestamp,
    IReadOnlyList<BackupFileReport> Files, long TotalBytes, bool Verified)
{
    /// <summary>The report of a verified manifest.</summary>
    public static BackupReport From(string directory, BackupManifest manifest) => new(Path.GetFullPath(directory), manifest.Name, manifest.SnapshotId,
        new DataCommands.VersionDocument(manifest.TimestampWallNanos, manifest.TimestampLogical),
        [.. manifest.Ranges.Select(r => new BackupFileReport(r.RangeId, r.File, r.SizeBytes, r.Entries, r.Sha256))], manifest.TotalBytes, Verified: true);
}
