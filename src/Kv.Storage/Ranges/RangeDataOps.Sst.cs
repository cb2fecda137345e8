using System.IO.Hashing;
using RocksDbSharp;

namespace Kv.Storage.Ranges;

/// <summary>Snapshot transfer by SST files: written with SstFileWriter, installed by one atomic ingestion.</summary>
public sealed partial class RangeDataOps
{
    /// <summary>Sub-directory of the store where the receiver's own tombstone file is built (RocksDB ignores sub-directories).</summary>
    internal const string IngestStagingDirectoryName = "kv-ingest-staging";

    /// <summary>
    /// Writes the span's data, read from one RocksDB snapshot taken at the start, as sorted SST files of raw
    /// keys and values (a new file after <see cref="SstFileBytesMax"/> key/value bytes) into
    /// <paramref name="directory"/>, which must not exist, and last a manifest with each file's CRC32C.
    /// Runs on the thread pool: SST building is blocking native work.
    /// </summary>
    /// <param name="span">The range's user keys.</param>
    /// <param name="directory">A directory to create; ship it whole to the receiver.</param>
    /// <param name="progress">Told the running totals after each file.</param>
    /// <param name="cancellationToken">Stops the export between pairs, leaving an incomplete directory without a manifest.</param>
    public Task<SstExport> ExportSstAsync(
        RangeSpan span,
        string directory,
        IProgress<RangeTransferStats>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (Directory.Exists(directory) || File.Exists(directory))
            throw new IOException($"'{directory}' already exists; an SST export needs a new directory.");
        return Task.Run(() => ExportSst(span, directory, progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Replaces the span's data with an export of <see cref="ExportSstAsync"/>. Every file is checked against
    /// the manifest (length and CRC32C) before anything changes. Then one <c>IngestExternalFiles</c> call
    /// adds, in this order, a small SST holding only a range tombstone over the span (built here, from this
    /// store's own last key if the span is unbounded) and the exported files: ingestion gives each later file
    /// a higher sequence number, so the tombstone hides the old data but not the new, and RocksDB installs the
    /// whole list as one version. A reader therefore sees the old data or the new, never a mix, and a rejected
    /// export leaves the store unchanged. Files are hard-linked into the database (copied across file
    /// systems); the export directory stays intact and may be deleted afterwards.
    /// </summary>
    /// <param name="span">The range's user keys; must match the manifest.</param>
    /// <param name="directory">The shipped export directory.</param>
    /// <param name="progress">Told the running totals after each verified file.</param>
    /// <param name="cancellationToken">Abandons the install before ingestion; the store is then unchanged.</param>
    /// <returns>What was installed (from the manifest).</returns>
    /// <exception cref="StorageCorruptionException">The manifest or a file failed verification; the message names the range and file.</exception>
    /// <exception cref="ArgumentException">The export holds a different span.</exception>
    public Task<RangeTransferStats> InstallSstAsync(
        RangeSpan span,
        string directory,
        IProgress<RangeTransferStats>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return Task.Run(() => InstallSst(span, directory, progress, cancellationToken), cancellationToken);
    }

    private SstExport ExportSst(RangeSpan span, string directory, IProgress<RangeTransferStats>? progress, CancellationToken cancellationToken)
    {
        var encoded = new EncodedSpan(span);
        Directory.CreateDirectory(directory);
        var files = new List<SstFileInfo>();
        var total = new RangeTransferStats();
        using var snapshot = Store.Db.CreateSnapshot();
        using var iterator = Store.Db.NewIterator(Store.Data, encoded.NewReadOptions(snapshot));
        SstFileWriter? writer = null;
        string name = "";
        var file = new RangeTransferStats();
        try
        {
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (writer is null)
                {
                    name = $"{files.Count:D6}.sst";
                    writer = new SstFileWriter(new EnvOptions(), new ColumnFamilyOptions());
                    writer.Open(Path.Combine(directory, name));
                }
                byte[] key = iterator.Key();
                byte[] value = iterator.Value();
                writer.Put(key, value);
                file = file.Add(key.Length, value.Length);
                total = total.Add(key.Length, value.Length);
                if (file.DataBytes >= SstFileBytesMax)
                {
                    files.Add(FinishFile(writer, directory, name, file));
                    writer.Dispose();
                    writer = null;
                    file = new RangeTransferStats();
                    progress?.Report(total);
                }
            }
            EncodedSpan.ThrowIfFailed(iterator, $"exporting range {span} to SST files");
            // SstFileWriter refuses to finish an empty file, so an empty range exports no files at all.
            if (writer is not null) files.Add(FinishFile(writer, directory, name, file));
        }
        finally
        {
            writer?.Dispose();
        }
        var export = new SstExport(directory, span, files, total);
        SstManifest.For(export).Write(directory);
        progress?.Report(total);
        return export;
    }

    private static SstFileInfo FinishFile(SstFileWriter writer, string directory, string name, RangeTransferStats contents)
    {
        writer.Finish();
        string path = Path.Combine(directory, name);
        return new SstFileInfo(name, new FileInfo(path).Length, FileCrc32c(path), contents.PairCount, contents.DataBytes);
    }

    private RangeTransferStats InstallSst(RangeSpan span, string directory, IProgress<RangeTransferStats>? progress, CancellationToken cancellationToken)
    {
        var manifest = SstManifest.Read(directory, span);
        RangeSpan exported;
        try
        {
            exported = manifest.Span;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new StorageCorruptionException($"SST export of range {span}: the manifest's span is invalid: {e.Message}", e);
        }
        if (!exported.Equals(span))
            throw new ArgumentException($"The SST export in '{directory}' holds range {exported}, not {span}.", nameof(span));

        var paths = new List<string>();
        var verified = new RangeTransferStats();
        for (int i = 0; i < manifest.Files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var file = manifest.Files[i];
            paths.Add(VerifyFile(span, directory, i, file));
            verified = new RangeTransferStats(verified.PairCount + file.PairCount, verified.DataBytes + file.DataBytes);
            progress?.Report(verified);
        }
        var total = new RangeTransferStats(manifest.PairCount, manifest.DataBytes);
        cancellationToken.ThrowIfCancellationRequested();

        string? tombstone = WriteTombstoneFile(new EncodedSpan(span));
        try
        {
            string[] ingest = tombstone is null ? [.. paths] : [tombstone, .. paths];
            if (ingest.Length > 0)
            {
                var options = new IngestExternalFileOptions();
                // Link rather than move: the export stays valid (it may be installed elsewhere or retried).
                Native.Instance.rocksdb_ingestexternalfileoptions_set_link_files(options.Handle, 1);
                Store.Db.IngestExternalFiles(ingest, options, Store.Data);
            }
        }
        finally
        {
            if (tombstone is not null) File.Delete(tombstone);
        }
        progress?.Report(total);
        return total;
    }

    private static string VerifyFile(RangeSpan span, string directory, int index, SstFileInfo file)
    {
        string Describe() => $"SST export of range {span}: file {index} ({file.Name})";
        if (string.IsNullOrEmpty(file.Name) || Path.GetFileName(file.Name) != file.Name)
            throw new StorageCorruptionException($"{Describe()} has an invalid name.");
        string path = Path.Combine(directory, file.Name);
        if (!File.Exists(path))
            throw new StorageCorruptionException($"{Describe()} is missing.");
        long length = new FileInfo(path).Length;
        if (length != file.SizeBytes)
            throw new StorageCorruptionException($"{Describe()} is {length} bytes long; the manifest says {file.SizeBytes}.");
        uint crc = FileCrc32c(path);
        if (crc != file.Crc32c)
            throw new StorageCorruptionException(
                $"{Describe()} failed its CRC32C check (manifest 0x{file.Crc32c:X8}, computed 0x{crc:X8}).");
        return path;
    }

    /// <summary>An SST holding only the span's range tombstone, or null if this store has nothing in the span.</summary>
    private string? WriteTombstoneFile(EncodedSpan encoded)
    {
        byte[]? upper = encoded.ResolveUpper(Store);
        if (upper is null) return null;
        string staging = Path.Combine(Store.Path, IngestStagingDirectoryName);
        Directory.CreateDirectory(staging);
        string path = Path.Combine(staging, $"tombstone-{Guid.NewGuid():N}.sst");
        using var writer = new SstFileWriter(new EnvOptions(), new ColumnFamilyOptions());
        writer.Open(path);
        Native.Instance.rocksdb_sstfilewriter_delete_range(
            writer.Handle, encoded.Lower, (UIntPtr)encoded.Lower.Length, upper, (UIntPtr)upper.Length);
        writer.Finish();
        return path;
    }

    private static uint FileCrc32c(string path)
    {
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        crc.Append(stream);
        return crc.GetCurrentHashAsUInt32();
    }
}
