using Kv.Backup;
using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Snapshots;

/// <summary>
/// Starts a new cluster from a backup (<c>--restore-from</c>) instead of the default genesis: every initial
/// member writes the backup's ranges (same ids and spans, replicated on the new members) and its data, so
/// that, like the default genesis, they agree without talking. The hybrid logical clock starts above the
/// snapshot timestamp, so every later write lands above the restored versions.
/// </summary>
internal static class SnapshotRestore
{
    /// <summary>Meta key naming the snapshot a node was restored from (so a restart with the same flag is a no-op).</summary>
    public const string RestoredFromKey = "restore/snapshot-id";

    private const long SstFileBytesMax = 256L << 20;

    /// <summary>
    /// Restores when the store is empty; on a store restored from the same backup before, does nothing; on any
    /// other initialised store, refuses (an in-place restore empties the data directory first).
    /// </summary>
    /// <returns>The snapshot timestamp, below which the clock must never issue; null when nothing was restored now.</returns>
    public static async Task<Kv.Storage.Encoding.Timestamp?> RunAsync(NodeStore store, IReadOnlyCollection<NodeInfo> nodes, string backupDirectory,
        ILogger logger, CancellationToken cancellationToken)
    {
        var meta = new MetaStore(store);
        var planned = BackupManifest.Read(backupDirectory);
        if (ClusterGenesis.IsInitialized(store))
        {
            if (meta.TryGet(RestoredFromKey, out var restored) && System.Text.Encoding.UTF8.GetString(restored) == planned.SnapshotId)
            {
                logger.LogInformation("Data directory already restored from snapshot {Name} ({Id}); starting normally", planned.Name, planned.SnapshotId);
                return null;
            }
            throw new InvalidOperationException(
                $"--restore-from: the data directory '{store.Path}' already holds a cluster. Restore into an empty data directory, or run "
                + "'kvctl snapshot restore … --in-place --yes' (which empties it) with this node stopped.");
        }
        var lastLogged = DateTime.MinValue;
        var started = DateTime.UtcNow;
        var manifest = await BackupVerifier.VerifyAsync(backupDirectory, new InlineProgress(p =>
        {
            if (DateTime.UtcNow - lastLogged < TimeSpan.FromSeconds(2)) return;
            lastLogged = DateTime.UtcNow;
            logger.LogInformation("Restore: verified {Done} of {Total} bytes", p.BytesDone, p.BytesTotal);
        }), cancellationToken).ConfigureAwait(false);
        var at = new Kv.Storage.Encoding.Timestamp(manifest.TimestampWallNanos, manifest.TimestampLogical);
        var ranges = manifest.Ranges.Select(r => new RangeDescriptor
        {
            RangeId = r.RangeId,
            StartKey = Google.Protobuf.ByteString.FromBase64(r.StartKey),
            EndKey = Google.Protobuf.ByteString.FromBase64(r.EndKey),
        }).ToList();
        if (ranges.Count == 0 || SnapshotCoverage.Gap(ranges) is { } gap || ranges.Select(r => r.RangeId).Distinct().Count() != ranges.Count
            || ranges.Any(r => r.RangeId < RangeIds.FirstUser))
            throw new BackupCorruptException(BackupManifest.FileName, $"{BackupManifest.FileName}: the ranges do not cover the key space exactly once");

        var verified = DateTime.UtcNow;
        long bytes = await Task.Run(() => Ingest(store, backupDirectory, manifest, at, logger, cancellationToken), cancellationToken).ConfigureAwait(false);
        // The data reaches SST files before the genesis exists: a crash in between leaves an uninitialised node that
        // restores again (rewriting the same versions).
        store.FlushAll();
        ClusterGenesis.Write(store, nodes, ranges, batch => meta.Put(batch, RestoredFromKey, System.Text.Encoding.UTF8.GetBytes(manifest.SnapshotId)));
        double verifySeconds = (verified - started).TotalSeconds, seconds = (DateTime.UtcNow - started).TotalSeconds;
        logger.LogInformation(
            "Restored snapshot {Name} ({Id}): {Ranges} ranges, {FileBytes} backup bytes ({Bytes} key and value bytes); verified in {VerifySeconds:0.00} s, restore took {Seconds:0.00} s in all: {Rate:0} MiB/s",
            manifest.Name, manifest.SnapshotId, ranges.Count, manifest.TotalBytes, bytes, verifySeconds, seconds,
            manifest.TotalBytes / 1048576.0 / Math.Max(seconds, 1e-6));
        return at;
    }

    /// <summary>
    /// Before the store opens for a restore into an empty data directory: deletes the WAL files that the replaced
    /// database left in the node's separate WAL directory. An in-place restore (<c>kvctl snapshot restore --in-place</c>)
    /// empties only the data directories it is given, and the store refuses to open a new database beside another
    /// database's WAL. Does nothing once the data directory holds a database (a restart of a restored node).
    /// </summary>
    public static void DiscardPreviousWal(string dataDirectory, string walDirectory, ILogger logger)
    {
        int deleted = NodeStore.DiscardWalOfPreviousDatabase(dataDirectory, walDirectory);
        if (deleted > 0)
            logger.LogWarning("--restore-from into an empty data directory: deleted {Count} WAL files of the previous database from the WAL directory {WalDirectory}",
                deleted, walDirectory);
    }

    private static long Ingest(NodeStore store, string directory, BackupManifest manifest, Kv.Storage.Encoding.Timestamp at, ILogger logger,
        CancellationToken cancellationToken)
    {
        // SST files built here and moved into the database by one ingestion: no write-ahead log, no memtables.
        string staging = Path.Combine(store.Path, "restore-staging");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        var files = new List<string>();
        long total = 0, fileBytes = 0;
        var lastLogged = DateTime.UtcNow;
        MvccSstWriter? writer = null;
        try
        {
            foreach (var range in manifest.Ranges)
            {
                var span = new KeySpan(Convert.FromBase64String(range.StartKey), range.EndKey.Length == 0 ? null : Convert.FromBase64String(range.EndKey));
                foreach (var entry in BackupDataFile.Read(Path.Combine(directory, range.File)))
                {
                    var version = Kv.Txn.TxnWire.ToStorage(entry.Version);
                    if (!span.Contains(entry.Key.Span) || version > at || version <= Kv.Storage.Encoding.Timestamp.Zero)
                        throw new BackupCorruptException(range.File, $"{range.File} holds a key outside range {range.RangeId} or a version above the snapshot");
                    writer ??= new MvccSstWriter(Path.Combine(staging, $"{files.Count:D6}.sst"));
                    try
                    {
                        writer.Add(entry.Key.Span, entry.Value.Span, version);
                    }
                    catch (ArgumentException e)
                    {
                        throw new BackupCorruptException(range.File, $"{range.File}: {e.Message}");
                    }
                    fileBytes += entry.Key.Length + entry.Value.Length;
                    if (fileBytes < SstFileBytesMax) continue;
                    cancellationToken.ThrowIfCancellationRequested();
                    files.Add(Finish(writer));
                    writer = null;
                    total += fileBytes;
                    fileBytes = 0;
                    if (DateTime.UtcNow - lastLogged > TimeSpan.FromSeconds(2))
                    {
                        lastLogged = DateTime.UtcNow;
                        logger.LogInformation("Restore: wrote {Bytes} bytes", total);
                    }
                }
            }
            if (writer is not null) files.Add(Finish(writer));
            writer = null;
            MvccSstWriter.Ingest(store, files);
            return total + fileBytes;
        }
        finally
        {
            writer?.Dispose();
            Directory.Delete(staging, recursive: true);
        }
    }

    private static string Finish(MvccSstWriter writer)
    {
        writer.Finish();
        writer.Dispose();
        return writer.Path;
    }
}
