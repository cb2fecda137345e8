using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kv.Storage.Ranges;

/// <summary>
/// The manifest of an SST export, stored as JSON beside the files. It is written last, so its presence means
/// the export is complete; the receiver checks the span and every file's length and CRC32C against it.
/// </summary>
internal sealed record SstManifest(string SpanStartHex, string SpanEndHex, List<SstFileInfo> Files, long PairCount, long DataBytes)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    [JsonIgnore]
    public RangeSpan Span => new(Convert.FromHexString(SpanStartHex), Convert.FromHexString(SpanEndHex));

    public static SstManifest For(SstExport export) => new(
        Convert.ToHexString(export.Span.Start.Span),
        Convert.ToHexString(export.Span.End.Span),
        [.. export.Files],
        export.Total.PairCount,
        export.Total.DataBytes);

    public void Write(string directory) =>
        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, s_json));

    /// <summary>Reads the manifest; a missing or unreadable one means the export cannot be trusted.</summary>
    public static SstManifest Read(string directory, RangeSpan span)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new StorageCorruptionException($"SST export of range {span} in '{directory}' has no {FileName}.");
        try
        {
            var manifest = JsonSerializer.Deserialize<SstManifest>(File.ReadAllText(path), s_json);
            // JSON may omit or null out members that the record declares non-nullable.
            if (manifest?.SpanStartHex is null || manifest.SpanEndHex is null || manifest.Files is null || manifest.Files.Contains(null!))
                throw new JsonException("The manifest lacks its span or its file list.");
            return manifest;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            throw new StorageCorruptionException($"SST export of range {span}: {path} is unreadable: {e.Message}", e);
        }
    }
}
