using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kv.Backup;

/// <summary>
/// <c>manifest.json</c> of a backup directory: which snapshot it holds, at which timestamp, and one data file per
/// range with its SHA-256. Written last by the exporter, so a directory without it is an unfinished export.
/// </summary>
public sealed record BackupManifest
{
    /// <summary>The file name inside a backup directory.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The format this code writes and reads.</summary>
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Format version (<see cref="CurrentFormat"/>).</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The snapshot's id in the source cluster.</summary>
    public required string SnapshotId { get; init; }

    /// <summary>The snapshot's name.</summary>
    public required string Name { get; init; }

    /// <summary>Wall part of the snapshot timestamp (Unix nanoseconds).</summary>
    public long TimestampWallNanos { get; init; }

    /// <summary>Logical part of the snapshot timestamp.</summary>
    public int TimestampLogical { get; init; }

    /// <summary>Ranges in key order; their spans cover the key space.</summary>
    public required IReadOnlyList<BackupRange> Ranges { get; init; }

    /// <summary>The sum of the data files' sizes.</summary>
    [JsonIgnore]
    public long TotalBytes => Ranges.Sum(r => r.SizeBytes);

    /// <summary>Writes the manifest into <paramref name="directory"/> (through a temporary file, renamed into place).</summary>
    public void Write(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads the manifest of <paramref name="directory"/>.</summary>
    /// <exception cref="BackupCorruptException">It is missing or unreadable.</exception>
    public static BackupManifest Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new BackupCorruptException(FileName, $"'{directory}' holds no {FileName}: not a backup, or an export that did not finish");
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new BackupCorruptException(FileName, $"{FileName} is not valid: {e.Message}");
        }
        if (manifest is null || manifest.Ranges is null) throw new BackupCorruptException(FileName, $"{FileName} is empty");
        if (manifest.Format != CurrentFormat)
            throw new BackupCorruptException(FileName, $"{FileName} has format {manifest.Format}; this version reads format {CurrentFormat}");
        return manifest;
    }
}

/// <summary>One range of a backup.</summary>
public sealed record BackupRange
{
    /// <summary>The range's id in the source cluster.</summary>
    public ulong RangeId { get; init; }

    /// <summary>First key (base64; empty = the start of the key space).</summary>
    public required string StartKey { get; init; }

    /// <summary>End key, exclusive (base64; empty = the end of the key space).</summary>
    public required string EndKey { get; init; }

    /// <summary>The data file's name inside the backup directory.</summary>
    public required string File { get; init; }

    /// <summary>The data file's SHA-256, lowercase hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary>The data file's length.</summary>
    public long SizeBytes { get; init; }

    /// <summary>How many keys the file holds.</summary>
    public long Entries { get; init; }
}
