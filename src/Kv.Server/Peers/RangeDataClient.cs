using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Storage;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// The fetching side of <c>RangeData.Fetch</c>: asks a peer's <see cref="RangeDataService"/> for one span of a range
/// and installs the chunks into a local store with <see cref="RangeDataOps.InstallAsync"/>, which verifies every
/// chunk (checksum, order, keys inside the span, a last chunk) and writes nothing until the whole stream has been
/// verified and the call has ended OK. So a refused, dropped, corrupt, truncated or cancelled fetch leaves the
/// target exactly as it was. Stateless; nothing to register in DI.
/// <para>
/// The channel must accept the largest chunk: <see cref="RangeDataOptions.ChunkBytesMax"/> (4 MiB by default) of
/// key and value bytes plus a few bytes of framing per pair, or a single pair larger than that (values may be
/// configured up to 32 MiB in storage). gRPC's default receive limit of 4 MiB is too small for those; set
/// <see cref="GrpcChannelOptions.MaxReceiveMessageSize"/> to at least <see cref="ReceiveMessageBytesMin"/>.
/// </para>
/// </summary>
public static class RangeDataClient
{
    /// <summary>
    /// A receive limit that fits any chunk a server with default <see cref="RangeDataOptions"/> sends: the largest
    /// stored pair (a 16 KiB user key with its version and a 32 MiB value with its header) alone in a chunk, with
    /// room for framing; above the default 4 MiB chunk plus its per-pair framing too.
    /// </summary>
    public const int ReceiveMessageBytesMin = 33 * 1024 * 1024;

    /// <summary>Fetches over <paramref name="channel"/>; see the <see cref="CallInvoker"/> overload.</summary>
    public static Task<RangeTransferStats> FetchAndInstallAsync(
        GrpcChannel channel,
        ulong rangeId,
        RangeSpan span,
        RangeDataOps target,
        IProgress<RangeTransferStats>? progress = null,
        int? chunkBytesMax = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return FetchAndInstallAsync(channel.CreateCallInvoker(), rangeId, span, target, progress, chunkBytesMax, cancellationToken);
    }

    /// <summary>
    /// Fetches range <paramref name="rangeId"/>'s data in <paramref name="span"/> from the peer behind
    /// <paramref name="invoker"/> and replaces the span's data in <paramref name="target"/> with it, atomically
    /// (one synced write after the whole stream is verified). The data is the peer's at one moment (one RocksDB
    /// snapshot); the caller must be the span's only writer on the target meanwhile (see <see cref="RangeDataOps"/>).
    /// </summary>
    /// <param name="invoker">A call invoker to the serving node (its channel's receive limit: see the class remarks).</param>
    /// <param name="rangeId">The range, as the serving node knows it.</param>
    /// <param name="span">The user keys to fetch and replace.</param>
    /// <param name="target">The local store to install into.</param>
    /// <param name="progress">Told the running totals after each verified chunk.</param>
    /// <param name="chunkBytesMax">A chunk-size hint for the server; null for its default.</param>
    /// <param name="cancellationToken">Cancels the call; the target is then unchanged.</param>
    /// <returns>What was installed.</returns>
    /// <exception cref="RangeTransferException">The peer refused, the call failed, or the stream failed verification; the target is unchanged.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the target is unchanged.</exception>
    /// <exception cref="InvalidOperationException">The range is larger than the target's <see cref="RangeDataOps.InstallStagedBytesMax"/>; move it with SST files.</exception>
    public static async Task<RangeTransferStats> FetchAndInstallAsync(
        CallInvoker invoker,
        ulong rangeId,
        RangeSpan span,
        RangeDataOps target,
        IProgress<RangeTransferStats>? progress = null,
        int? chunkBytesMax = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(target);
        var request = new Wire.RangeDataRequest
        {
            RangeId = rangeId,
            StartKey = ByteString.CopyFrom(span.Start.Span),
            EndKey = ByteString.CopyFrom(span.End.Span),
        };
        if (chunkBytesMax is { } hint)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(hint, 1, nameof(chunkBytesMax));
            request.ChunkBytesMax = (uint)hint;
        }

        string what = $"Fetching range {rangeId} {span} from a peer";
        // Disposing the call cancels it if it is still running, so a rejected stream also stops the server.
        using var call = new Wire.RangeData.RangeDataClient(invoker).Fetch(request, cancellationToken: cancellationToken);
        try
        {
            return await target.InstallAsync(span, ReceiveAsync(call.ResponseStream, cancellationToken), progress, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"{what} was cancelled; the local copy is unchanged.", e, cancellationToken);
        }
        catch (RpcException e)
        {
            throw new RangeTransferException(rangeId, span, e.StatusCode,
                $"{what} failed; the local copy is unchanged. The call ended with {e.StatusCode}: {e.Status.Detail}", e);
        }
        catch (Exception e) when (e is StorageCorruptionException or InvalidDataException)
        {
            throw new RangeTransferException(rangeId, span, peerStatus: null,
                $"{what} failed; the local copy is unchanged. The stream was rejected: {e.Message}", e);
        }
    }

    private static async IAsyncEnumerable<RangeSnapshotChunk> ReceiveAsync(
        IAsyncStreamReader<Wire.RangeDataChunk> stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // MoveNext returns false only once the call has ended OK; a failed call throws here instead, so a stream cut
        // after its last chunk is still rejected.
        while (await stream.MoveNext(cancellationToken).ConfigureAwait(false))
            yield return RangeDataChunkMapper.FromProto(stream.Current);
    }
}
