namespace Kv.Backup;

/// <summary>
/// The offline part of a restore, for the CLI: verify the backup, then make sure each node's data directory may
/// receive it. A restore always starts a fresh cluster from the exported data (nodes started with
/// <c>--restore-from</c>); an in-place restore empties the existing members' data directories first, which needs
/// the operator's confirmation.
/// </summary>
public static class RestorePreparation
{
    /// <summary>
    /// Verifies the backup in <paramref name="backupDirectory"/> and prepares <paramref name="dataDirectories"/>
    /// (the nodes must be stopped): an empty or missing directory is created; a non-empty one is refused unless
    /// <paramref name="confirmed"/>, and then emptied.
    /// </summary>
    /// <exception cref="BackupCorruptException">The backup failed verification (nothing was changed).</exception>
    /// <exception cref="InvalidOperationException">A data directory is not empty and <paramref name="confirmed"/> is false (nothing was changed).</exception>
    public static async Task<BackupManifest> PrepareAsync(string backupDirectory, IReadOnlyList<string> dataDirectories, bool confirmed,
        IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataDirectories);
        var manifest = await BackupVerifier.VerifyAsync(backupDirectory, progress, cancellationToken).ConfigureAwait(false);
        var occupied = dataDirectories.Where(d => Directory.Exists(d) && Directory.EnumerateFileSystemEntries(d).Any()).ToList();
        if (occupied.Count > 0 && !confirmed)
            throw new InvalidOperationException(
                $"{string.Join(", ", occupied.Select(d => $"'{d}'"))} {(occupied.Count == 1 ? "is" : "are")} not empty. An in-place restore deletes "
                + "everything in them (stop those nodes first); confirm with --yes, or restore into new directories.");
        foreach (var d in dataDirectories)
        {
            if (Directory.Exists(d))
                foreach (var entry in new DirectoryInfo(d).EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo sub) sub.Delete(recursive: true);
                    else entry.Delete();
                }
            Directory.CreateDirectory(d);
        }
        return manifest;
    }
}
