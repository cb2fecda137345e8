using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

/// <summary>What <see cref="StreamFaultInterceptor"/> does to the server's chunk stream at chunk <c>AtChunk</c>.</summary>
internal enum StreamFaultKind
{
    /// <summary>Passes everything through.</summary>
    None,

    /// <summary>Flips one bit in the first value of the chunk, keeping its checksum.</summary>
    FlipBit,

    /// <summary>Silently drops this chunk and every later one: the call still ends OK, without a last chunk.</summary>
    Truncate,

    /// <summary>
    /// Holds this chunk until the call is cancelled (by the client, by the node stopping, or by
    /// <see cref="StreamFaultInterceptor.DropHeldCall"/>).
    /// </summary>
    Hold,
}

/// <summary>
/// A server interceptor that plays a faulty network or peer on <c>RangeData.Fetch</c> responses, below the real
/// service: the service streams as usual, and the client must notice.
/// </summary>
internal sealed class StreamFaultInterceptor(StreamFaultKind kind, int atChunk) : Interceptor
{
    private volatile ServerCallContext? _held;

    public StreamFaultKind Kind { get; } = kind;

    /// <summary>The index of the first chunk the fault applies to.</summary>
    public int AtChunk { get; } = atChunk;

    /// <summary>Completes when a chunk is held (<see cref="StreamFaultKind.Hold"/>).</summary>
    public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Aborts the held call's HTTP/2 stream, as a dropped connection would: the client sees a reset, the handler a
    /// cancellation.
    /// </summary>
    public void DropHeldCall() =>
        (_held ?? throw new InvalidOperationException("No call is held.")).GetHttpContext().Abort();

    /// <summary>Completes when the service's handler has returned or thrown, with what it threw (null: it returned).</summary>
    public TaskCompletionSource<Exception?> HandlerEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, new FaultyWriter<TResponse>(this, responseStream, context), context);
            HandlerEnded.TrySetResult(null);
        }
        catch (Exception e)
        {
            HandlerEnded.TrySetResult(e);
            throw;
        }
    }

    private sealed class FaultyWriter<T>(StreamFaultInterceptor owner, IServerStreamWriter<T> inner, ServerCallContext context)
        : IServerStreamWriter<T>
    {
        private int _written;

        public WriteOptions? WriteOptions { get => inner.WriteOptions; set => inner.WriteOptions = value; }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            int index = _written++;
            if (index < owner.AtChunk || owner.Kind == StreamFaultKind.None)
            {
                await inner.WriteAsync(message, cancellationToken);
                return;
            }
            switch (owner.Kind)
            {
                case StreamFaultKind.FlipBit when index == owner.AtChunk:
                    await inner.WriteAsync((T)(object)Flipped((Wire.RangeDataChunk)(object)message!), cancellationToken);
                    break;
                case StreamFaultKind.Truncate:
                    break;
                case StreamFaultKind.Hold when index == owner.AtChunk:
                    owner._held = context;
                    owner.Holding.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                default:
                    await inner.WriteAsync(message, cancellationToken);
                    break;
            }
        }

        private static Wire.RangeDataChunk Flipped(Wire.RangeDataChunk chunk)
        {
            var copy = chunk.Clone();
            byte[] value = copy.Pairs[0].Value.ToByteArray();
            value[^1] ^= 0x01;
            copy.Pairs[0].Value = ByteString.CopyFrom(value);
            return copy;
        }
    }
}
