using Grpc.Core;
using Kv.Server.Api;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// The receiving end of peer streams: reads each batch, hands its messages to the <see cref="IPeerMessageSink"/>
/// in order, then acknowledges it. Acknowledging only after delivery is what bounds the sender's in-flight window
/// by the sink's speed. A malformed message is logged and skipped; the rest of its batch is still delivered. A frame
/// that is not a batch at all ends the stream with INTERNAL (<see cref="MalformedRequestBinder"/>); the sender
/// reconnects.
/// </summary>
[BindServiceMethod(typeof(PeerService), nameof(BindService))]
public sealed class PeerService(
    IPeerMessageSink sink, IHostApplicationLifetime lifetime, ILogger<PeerService> logger, PeerLocalNode? localNode = null,
    PeerTransport? transport = null)
    : Wire.Peer.PeerBase
{
    /// <summary>Binds the stream with bytes that are not a batch answered INTERNAL rather than UNKNOWN. Called by gRPC.</summary>
    public static void BindService(ServiceBinderBase serviceBinder, Wire.Peer.PeerBase? service) =>
        Wire.Peer.BindService(new MalformedRequestBinder(serviceBinder), service);

    /// <inheritdoc />
    public override async Task Stream(
        IAsyncStreamReader<Wire.PeerBatch> requestStream, IServerStreamWriter<Wire.PeerBatchAck> responseStream, ServerCallContext context)
    {
        // Streams are long-lived: end them when the node stops rather than holding up its shutdown.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        ulong batchesReceived = 0;
        try
        {
            while (await requestStream.MoveNext(stop.Token).ConfigureAwait(false))
            {
                var batch = requestStream.Current;
                if (localNode is not null && batch.ToNode != localNode.NodeId)
                {
                    PeerLog.Misrouted(logger, batch.FromNode, batch.ToNode, localNode.NodeId);
                    throw new RpcException(new Status(StatusCode.FailedPrecondition,
                        $"This is node {localNode.NodeId}, not node {batch.ToNode}."));
                }
                // The sender is alive: if our own stream to it is waiting out a backoff, it reconnects now.
                if (batchesReceived == 0) transport?.PeerHeard(batch.FromNode);
                Deliver(batch);
                batchesReceived++;
                await responseStream.WriteAsync(new Wire.PeerBatchAck { BatchesReceived = batchesReceived }, stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && stop.IsCancellationRequested)
        {
            // The sender went away or this node is stopping; the sender reconnects.
        }
        // Tried even if the call is being torn down already: at worst the write fails.
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            await SayGoingAwayAsync(responseStream, batchesReceived).ConfigureAwait(false);
    }

    /// <summary>
    /// Tells the sender this node is stopping, so that the end of the stream reads as an orderly stop rather than a
    /// failure (best effort: a sender that misses it only logs a warning).
    /// </summary>
    private static async Task SayGoingAwayAsync(IServerStreamWriter<Wire.PeerBatchAck> responseStream, ulong batchesReceived)
    {
        try
        {
            await responseStream.WriteAsync(new Wire.PeerBatchAck { BatchesReceived = batchesReceived, GoingAway = true })
                .WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException or OperationCanceledException or RpcException)
        {
            // The stream is gone already.
        }
    }

    private void Deliver(Wire.PeerBatch batch)
    {
        foreach (var wire in batch.Messages)
        {
            ulong groupId;
            Kv.Paxos.PaxosMessage message;
            try
            {
                (groupId, message) = PaxosMessageCodec.FromProto(wire);
            }
            catch (InvalidDataException e)
            {
                PeerLog.DecodeFailed(logger, batch.FromNode, e);
                continue;
            }
            try
            {
                if (wire.Trace is null) sink.Deliver(batch.FromNode, groupId, message);
                else sink.DeliverTraced(batch.FromNode, groupId, message, PeerTraceCodec.FromProto(wire.Trace));
            }
            catch (Exception e)
            {
                // One message's failure must not cut the stream of every group this peer shares with us.
                PeerLog.SinkFailed(logger, batch.FromNode, groupId, e);
            }
        }
    }
}
