namespace Kv.Backup;

/// <summary>A backup failed verification: a file is missing, the wrong size, or its checksum differs.</summary>
public sealed class BackupCorruptException(string file, string message) : Exception(message)
{
    /// <summary>The file (relative to the backup directory) that failed.</summary>
    public string File { get; } = file;
}
