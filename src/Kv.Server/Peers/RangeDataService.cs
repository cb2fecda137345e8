using System.Diagnostics;
using Grpc.Core;
using Kv.Server.Api;
using Kv.Storage;
using Kv.Storage.Ranges;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// Serves <c>RangeData.Fetch</c> (range_data.proto): streams one span of a hosted range's data, read from one
/// RocksDB snapshot with <see cref="RangeDataOps.ReadSnapshotChunksAsync"/>, to a peer that installs it with
/// <see cref="RangeDataClient"/>. Internal to the cluster, like <see cref="PeerService"/>.
/// <para>
/// Map with <c>app.MapGrpcService&lt;RangeDataService&gt;()</c>. From DI it needs: the node's <see cref="NodeStore"/>
/// (singleton; it must outlive the app, since a stream reads it until the call ends), an
/// <see cref="IRangeDataSource"/> (singleton; says which ranges and spans this node may serve), and the host's
/// <see cref="IHostApplicationLifetime"/> and <see cref="ILogger{TCategoryName}"/>. <see cref="RangeDataOptions"/> is
/// optional (defaults without it). Chunks go out without a size limit on the server (gRPC's default); the
/// receiving channel must accept them (see <see cref="RangeDataClient"/>).
/// </para>
/// <para>
/// Answers: INVALID_ARGUMENT for a bad span or chunk hint, NOT_FOUND or FAILED_PRECONDITION when the source refuses
/// (with its reason), DATA_LOSS when this node's stored data fails its checksums, UNAVAILABLE when the node stops
/// mid-stream, CANCELLED when the peer cancels. Only a call that ends OK has delivered the last chunk.
/// </para>
/// </summary>
public sealed class RangeDataService(
    NodeStore store,
    IRangeDataSource source,
    IHostApplicationLifetime lifetime,
    ILogger<RangeDataService> logger,
    RangeDataOptions? options = null)
    : Wire.RangeData.RangeDataBase
{
    private readonly RangeDataOptions _options = Validated(options ?? new RangeDataOptions());

    /// <inheritdoc />
    public override async Task Fetch(
        Wire.RangeDataRequest request, IServerStreamWriter<Wire.RangeDataChunk> responseStream, ServerCallContext context)
    {
        var (span, chunkBytes) = RangeDataRequestValidator.Validate(request, _options);
        string peer = context.Peer;
        ThrowUnlessServable(request.RangeId, span, peer);
        RangeDataLog.Serving(logger, request.RangeId, span.ToString(), peer, chunkBytes);

        // A snapshot stream may run for a long time: end it when the node stops rather than holding up shutdown
        // (the store is disposed after the app stops, and the enumeration must be over by then).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ops = new RangeDataOps(store) { ChunkBytesMax = chunkBytes };
        var elapsed = Stopwatch.StartNew();
        var sent = new RangeTransferStats();
        int chunkCount = 0;
        try
        {
            await using var chunks = ops.ReadSnapshotChunksAsync(span, progress: null, stop.Token).GetAsyncEnumerator(stop.Token);
            bool more = await chunks.MoveNextAsync().ConfigureAwait(false);
            // The first MoveNextAsync took the snapshot. Check again: if the range left this node between the first
            // check and the snapshot, the snapshot may lack its data, and the peer would install that as the range.
            ThrowUnlessServable(request.RangeId, span, peer);
            while (more)
            {
                var chunk = chunks.Current;
                await responseStream.WriteAsync(RangeDataChunkMapper.ToProto(chunk), stop.Token).ConfigureAwait(false);
                chunkCount++;
                sent = new RangeTransferStats(sent.PairCount + chunk.Pairs.Count, sent.DataBytes + chunk.DataBytes);
                more = await chunks.MoveNextAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && stop.IsCancellationRequested)
        {
            if (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                RangeDataLog.Stopped(logger, request.RangeId, span.ToString(), peer, chunkCount, "this node is stopping");
                throw KvErrors.Plain(StatusCode.Unavailable, "This node is stopping; fetch the range from another replica or retry.");
            }
            RangeDataLog.Stopped(logger, request.RangeId, span.ToString(), peer, chunkCount, "the peer cancelled");
            throw KvErrors.Plain(StatusCode.Cancelled, "The fetch was cancelled.");
        }
        catch (StorageCorruptionException e)
        {
            RangeDataLog.Corrupt(logger, request.RangeId, span.ToString(), peer, e);
            throw KvErrors.Plain(StatusCode.DataLoss,
                $"This node's copy of range {request.RangeId} {span} is corrupt; fetch it from another replica. {e.Message}");
        }
        RangeDataLog.Served(logger, request.RangeId, span.ToString(), peer, sent.PairCount, sent.DataBytes, chunkCount, elapsed.ElapsedMilliseconds);
    }

    private void ThrowUnlessServable(ulong rangeId, RangeSpan span, string peer)
    {
        var availability = source.Check(rangeId, span, out string reason);
        if (availability == RangeDataAvailability.Available) return;
        RangeDataLog.Refused(logger, rangeId, span.ToString(), peer, availability, reason);
        var code = availability switch
        {
            RangeDataAvailability.RangeNotHosted => StatusCode.NotFound,
            RangeDataAvailability.SpanUnavailable => StatusCode.FailedPrecondition,
            _ => throw new InvalidOperationException($"{nameof(IRangeDataSource)} returned the unknown availability {availability}."),
        };
        throw KvErrors.Plain(code, $"Range {rangeId} {span} cannot be served by this node: {reason}");
    }

    private static RangeDataOptions Validated(RangeDataOptions options)
    {
        options.Validate();
        return options;
    }
}
