namespace Kv.Storage.Ranges;

/// <summary>
/// A range's data written as SST files into <see cref="Directory"/> by <see cref="RangeDataOps.ExportSstAsync"/>,
/// together with <see cref="SstManifest.FileName"/>, which lists the files with their CRC32C. Ship the whole
/// directory; <see cref="RangeDataOps.InstallSstAsync"/> verifies it against the manifest.
/// </summary>
/// <param name="Directory">Where the files are.</param>
/// <param name="Span">The range's user keys.</param>
/// <param name="Files">The SST files in key order (none for an empty range).</param>
/// <param name="Total">Pairs and key/value bytes in all files.</param>
public sealed record SstExport(string Directory, RangeSpan Span, IReadOnlyList<SstFileInfo> Files, RangeTransferStats Total);

/// <summary>One exported SST file.</summary>
/// <param name="Name">File name inside the export directory.</param>
/// <param name="SizeBytes">File length.</param>
/// <param name="Crc32c">CRC32C of the whole file.</param>
/// <param name="PairCount">Key/value pairs in the file.</param>
/// <param name="DataBytes">Sum of key and value lengths in the file.</param>
public sealed record SstFileInfo(string Name, long SizeBytes, uint Crc32c, long PairCount, long DataBytes);
