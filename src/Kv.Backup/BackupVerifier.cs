namespace Kv.Backup;

/// <summary>Checks a backup directory: the manifest reads, and every data file exists with its recorded length and SHA-256.</summary>
public static class BackupVerifier
{
    /// <summary>Verifies every file of the backup in <paramref name="directory"/>; returns its manifest.</summary>
    /// <exception cref="BackupCorruptException">A file is missing, has the wrong length or checksum (the message names it).</exception>
    public static async Task<BackupManifest> VerifyAsync(string directory, IProgress<BackupProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var manifest = BackupManifest.Read(directory);
        long total = manifest.TotalBytes, done = 0;
        int files = 0;
        foreach (var range in manifest.Ranges)
        {
            if (range.File.Contains('/') || range.File.Contains('\\') || range.File == "..")
                throw new BackupCorruptException(range.File, $"the manifest names '{range.File}', which is not a file of the backup directory");
            string path = Path.Combine(directory, range.File);
            if (!File.Exists(path)) throw new BackupCorruptException(range.File, $"{range.File} (range {range.RangeId}) is missing from '{directory}'");
            long length = new FileInfo(path).Length;
            if (length != range.SizeBytes)
                throw new BackupCorruptException(range.File, $"{range.File} (range {range.RangeId}) has {length} bytes; the manifest says {range.SizeBytes}");
            string sha = await BackupDataFile.Sha256Async(path, read =>
            {
                done += read;
                progress?.Report(new BackupProgress("verify", range.File, done, total, files, manifest.Ranges.Count));
            }, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(sha, range.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new BackupCorruptException(range.File, $"{range.File} (range {range.RangeId}) fails its SHA-256 check: {sha}, the manifest says {range.Sha256}");
            files++;
            progress?.Report(new BackupProgress("verify", range.File, done, total, files, manifest.Ranges.Count));
        }
        return manifest;
    }
}
