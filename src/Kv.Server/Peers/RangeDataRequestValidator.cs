using Grpc.Core;
using Kv.Server.Api;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// Checks a <c>RangeDataRequest</c> before anything is read: the span's keys (bounded, start below end unless the
/// end is empty) and the chunk-size hint (within <see cref="RangeDataOptions"/>). A failure is INVALID_ARGUMENT
/// with an <c>InvalidArgument</c> detail naming the field, like the client API's.
/// </summary>
internal static class RangeDataRequestValidator
{
    /// <summary>The span asked for, and the chunk size to read it with.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT.</exception>
    public static (RangeSpan Span, int ChunkBytes) Validate(Wire.RangeDataRequest request, RangeDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Span bounds are user keys; a longer one cannot bound anything stored and only costs memory.
        if (request.StartKey.Length > MvccStore.UserKeyBytesMax)
            throw KvErrors.InvalidArgument("start_key", $"{request.StartKey.Length} bytes, longer than {MvccStore.UserKeyBytesMax}");
        if (request.EndKey.Length > MvccStore.UserKeyBytesMax)
            throw KvErrors.InvalidArgument("end_key", $"{request.EndKey.Length} bytes, longer than {MvccStore.UserKeyBytesMax}");
        if (!request.EndKey.IsEmpty && request.StartKey.Span.SequenceCompareTo(request.EndKey.Span) >= 0)
            throw KvErrors.InvalidArgument("end_key", "must be above start_key, or empty for a span to the end of the key space");

        int chunkBytes = options.ChunkBytesDefault;
        if (request.HasChunkBytesMax)
        {
            if (request.ChunkBytesMax < options.ChunkBytesMin || request.ChunkBytesMax > options.ChunkBytesMax)
                throw KvErrors.InvalidArgument("chunk_bytes_max",
                    $"{request.ChunkBytesMax} is outside [{options.ChunkBytesMin}, {options.ChunkBytesMax}]; leave it unset for the default");
            chunkBytes = (int)request.ChunkBytesMax;
        }
        return (new RangeSpan(request.StartKey.Span, request.EndKey.Span), chunkBytes);
    }
}
