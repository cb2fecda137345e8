using System.Security.Cryptography;
using Google.Protobuf;
using Kv.Proto.V1;

namespace Kv.Backup;

/// <summary>
/// A range's data file: the magic <c>KVSNAP01</c>, then length-delimited <see cref="SnapshotEntry"/> messages
/// (key, value, version) in key order. Its SHA-256 is in the manifest.
/// </summary>
public static class BackupDataFile
{
    private static readonly byte[] Magic = "KVSNAP01"u8.ToArray();
    private const int BufferBytes = 1 << 20;

    /// <summary>Writes entries to a new file, hashing as it goes.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly FileStream _file;
        private readonly CodedOutputStream _output;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly HashingStream _hashing;

        /// <summary>Creates <paramref name="path"/> (which must not exist).</summary>
        public Writer(string path)
        {
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes);
            _hashing = new HashingStream(_file, _hash);
            _hashing.Write(Magic);
            _output = new CodedOutputStream(_hashing, leaveOpen: true);
        }

        /// <summary>Keys written.</summary>
        public long Entries { get; private set; }

        /// <summary>Appends one entry.</summary>
        public void Add(SnapshotEntry entry)
        {
            ArgumentNullException.ThrowIfNull(entry);
            _output.WriteLength(entry.CalculateSize());
            entry.WriteTo(_output);
            Entries++;
        }

        /// <summary>Flushes and syncs the file; returns its length and SHA-256 (lowercase hex).</summary>
        public (long SizeBytes, string Sha256) Finish()
        {
            _output.Flush();
            _file.Flush(flushToDisk: true);
            return (_file.Length, Convert.ToHexStringLower(_hash.GetHashAndReset()));
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _output.Dispose();
            _file.Dispose();
            _hash.Dispose();
        }
    }

    /// <summary>Reads the entries of a data file in order (verify its checksum first).</summary>
    /// <exception cref="BackupCorruptException">The file does not start with the magic or ends mid-entry.</exception>
    public static IEnumerable<SnapshotEntry> Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes);
        var magic = new byte[Magic.Length];
        if (file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) != magic.Length || !magic.AsSpan().SequenceEqual(Magic))
            throw new BackupCorruptException(Path.GetFileName(path), $"{Path.GetFileName(path)} is not a Kv backup data file");
        using var input = new CodedInputStream(file, leaveOpen: true);
        while (!input.IsAtEnd)
        {
            var entry = new SnapshotEntry();
            try
            {
                input.ReadMessage(entry);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new BackupCorruptException(Path.GetFileName(path), $"{Path.GetFileName(path)} is damaged: {e.Message}");
            }
            yield return entry;
        }
    }

    /// <summary>The SHA-256 (lowercase hex) of a file, reporting bytes read.</summary>
    public static async Task<string> Sha256Async(string path, Action<long>? bytesRead, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, useAsync: true);
        var buffer = new byte[BufferBytes];
        int read;
        while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            bytesRead?.Invoke(read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Passes writes through to a stream and into a hash.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
    }
}
