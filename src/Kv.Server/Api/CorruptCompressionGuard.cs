using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;

namespace Kv.Server.Api;

/// <summary>
/// Wraps a gRPC compression provider so that a request whose compressed bytes do not decompress is INTERNAL with a
/// message saying so, as the gRPC status-code spec asks ("could not decompress, but compression algorithm
/// supported"). Why: ASP.NET Core gRPC lets the decompressor's <see cref="InvalidDataException"/> escape, which
/// becomes UNKNOWN "Exception was thrown by handler." — a status that reads as a server bug. Compression and the
/// size limit on decompressed bytes (gRPC's own) are unchanged.
/// </summary>
internal sealed class CorruptCompressionGuard(ICompressionProvider inner) : ICompressionProvider
{
    /// <summary>The provider wrapped.</summary>
    public ICompressionProvider Inner => inner;

    /// <inheritdoc />
    public string EncodingName => inner.EncodingName;

    /// <inheritdoc />
    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        inner.CreateCompressionStream(stream, compressionLevel);

    /// <inheritdoc />
    public Stream CreateDecompressionStream(Stream stream) => new Reader(inner.CreateDecompressionStream(stream), inner.EncodingName);

    /// <summary>A read-only view of a decompression stream that reports corrupt input as a status.</summary>
    private sealed class Reader(Stream decompressed, string encoding) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return decompressed.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Corrupt(e);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await decompressed.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                throw Corrupt(e);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) decompressed.Dispose();
            base.Dispose(disposing);
        }

        private RpcException Corrupt(InvalidDataException e) =>
            KvErrors.Plain(StatusCode.Internal, $"The request's {encoding}-compressed message does not decompress: {e.Message}");
    }
}
