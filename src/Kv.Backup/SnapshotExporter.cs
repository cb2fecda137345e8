using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Backup;

/// <summary>
/// Exports a published snapshot of a running cluster into a backup directory: one data file per range, streamed
/// from a node whose checkpoint holds the range (the next one the manifest names if that fails), each with its
/// SHA-256, and <c>manifest.json</c> last.
/// </summary>
public static class SnapshotExporter
{
    private static readonly TimeSpan RangeTimeout = TimeSpan.FromMinutes(30);

    // A chunk holds at least one entry, and a value may be as large as the cluster's ValueBytesMax (4 MiB by default,
    // configurable): leave room for much larger ones than gRPC's 4 MiB default.
    private static readonly GrpcChannelOptions ChannelOptions = new() { MaxReceiveMessageSize = 256 << 20 };

    /// <summary>Exports snapshot <paramref name="name"/> through the cluster node at <paramref name="node"/> into <paramref name="directory"/>.</summary>
    /// <param name="node">Any node of the cluster (it names the others).</param>
    /// <param name="name">The snapshot's name.</param>
    /// <param name="directory">A directory that does not exist yet, or is empty.</param>
    /// <param name="progress">Told bytes and ranges done (the total is the ranges' approximate size).</param>
    /// <param name="cancellationToken">Stops the export; the directory is then left without a manifest.</param>
    /// <exception cref="RpcException">The snapshot does not exist (NOT_FOUND), or no node could export a range.</exception>
    public static async Task<BackupManifest> ExportAsync(Uri node, string name, string directory, IProgress<BackupProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new IOException($"'{directory}' is not empty; export into a new directory.");
        Directory.CreateDirectory(directory);
        using var entry = GrpcChannel.ForAddress(node);
        var snapshot = await new Snapshots.SnapshotsClient(entry).ShowAsync(new ShowSnapshotRequest { Name = name },
            deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken).ConfigureAwait(false);
        var endpoints = (await new Admin.AdminClient(entry).ListNodesAsync(new ListNodesRequest(), deadline: DateTime.UtcNow.AddSeconds(30),
            cancellationToken: cancellationToken)).Nodes.ToDictionary(n => n.NodeId, n => new Uri(n.Endpoint));
        var channels = new Dictionary<ulong, GrpcChannel>();
        try
        {
            long total = snapshot.Ranges.Sum(r => (long)r.ApproximateSizeBytes), done = 0;
            var ranges = new List<BackupRange>();
            foreach (var range in snapshot.Ranges)
            {
                string file = $"range-{range.Range.RangeId:D20}.kvsnap";
                var (size, sha, entries) = await ExportRangeAsync(snapshot, range, Path.Combine(directory, file), endpoints, channels, bytes =>
                {
                    done += bytes;
                    progress?.Report(new BackupProgress("export", file, done, Math.Max(total, done), ranges.Count, snapshot.Ranges.Count));
                }, cancellationToken).ConfigureAwait(false);
                ranges.Add(new BackupRange
                {
                    RangeId = range.Range.RangeId,
                    StartKey = Convert.ToBase64String(range.Range.StartKey.Span),
                    EndKey = Convert.ToBase64String(range.Range.EndKey.Span),
                    File = file,
                    Sha256 = sha,
                    SizeBytes = size,
                    Entries = entries,
                });
                progress?.Report(new BackupProgress("export", file, done, Math.Max(total, done), ranges.Count, snapshot.Ranges.Count));
            }
            var manifest = new BackupManifest
            {
                SnapshotId = snapshot.Id,
                Name = snapshot.Name,
                TimestampWallNanos = snapshot.Timestamp.WallNanos,
                TimestampLogical = snapshot.Timestamp.Logical,
                Ranges = ranges,
            };
            manifest.Write(directory);
            return manifest;
        }
        finally
        {
            foreach (var c in channels.Values) c.Dispose();
        }
    }

    private static async Task<(long Size, string Sha256, long Entries)> ExportRangeAsync(SnapshotManifest snapshot, SnapshotRange range, string path,
        Dictionary<ulong, Uri> endpoints, Dictionary<ulong, GrpcChannel> channels, Action<long> bytesWritten, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (ulong holder in range.NodeIds)
        {
            if (!endpoints.TryGetValue(holder, out var endpoint))
            {
                failures.Add($"node {holder} is not in the node registry");
                continue;
            }
            if (!channels.TryGetValue(holder, out var channel)) channels[holder] = channel = GrpcChannel.ForAddress(endpoint, ChannelOptions);
            if (File.Exists(path)) File.Delete(path);
            try
            {
                using var writer = new BackupDataFile.Writer(path);
                using var call = new Snapshots.SnapshotsClient(channel).Export(
                    new ExportSnapshotRangeRequest { SnapshotId = snapshot.Id, RangeId = range.Range.RangeId },
                    deadline: DateTime.UtcNow.Add(RangeTimeout), cancellationToken: cancellationToken);
                await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    foreach (var e in chunk.Entries) writer.Add(e);
                    bytesWritten(chunk.CalculateSize());
                }
                var (size, sha) = writer.Finish();
                return (size, sha, writer.Entries);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.FailedPrecondition or StatusCode.DeadlineExceeded or StatusCode.Internal)
            {
                failures.Add($"node {holder}: {e.Status.Detail}");
            }
        }
        throw new RpcException(new Status(StatusCode.Unavailable,
            $"no node could export range {range.Range.RangeId} of snapshot '{snapshot.Name}': {string.Join("; ", failures)}"));
    }
}
