using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// One stream to the peer: a writer that packs queued messages of any groups into batches within the
/// acknowledgement window, and a reader of the peer's acknowledgements that reopens the window.
/// </summary>
internal sealed partial class PeerConnection
{
    // A message taken from the queue that did not fit the previous batch; it opens the next one, on this stream or
    // the next. Touched by the sender loop only (Stats reads it for a count).
    private Wire.PaxosMessage? _carried;

    /// <summary>
    /// Runs one stream until it fails (or the transport stops). Returns whether the peer acknowledged anything on
    /// it (proof that it was reachable) and why it ended.
    /// </summary>
    private async Task<(bool Acked, Exception Failure)> RunStreamAsync(GrpcChannel channel, Uri endpoint, CancellationToken cancellationToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var window = new SemaphoreSlim(_options.UnackedBatchesMax);
        var progress = new StreamProgress();
        Exception? writeFailure = null;
        bool readerEndedFirst = false;
        Exception readFailure;
        using (var call = new Wire.Peer.PeerClient(channel).Stream(cancellationToken: session.Token))
        {
            var reader = ReadAcksAsync(call.ResponseStream, window, progress, endpoint, session);
            try
            {
                await WriteBatchesAsync(call.RequestStream, window, progress, session.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                writeFailure = e;
                readerEndedFirst = reader.IsCompleted;
            }
            await session.CancelAsync().ConfigureAwait(false);
            readFailure = await reader.ConfigureAwait(false);
        }
        Volatile.Write(ref _unackedBatches, 0);
        // When the reader ended the stream, the writer saw only the cancellation: report the reader's cause. A peer
        // that said it is stopping explains whatever the writer met after.
        var failure = writeFailure is null || readerEndedFirst || readFailure is PeerGoingAwayException ? readFailure : writeFailure;
        return (progress.Acked > 0, failure);
    }

    private async Task WriteBatchesAsync(
        IClientStreamWriter<Wire.PeerBatch> requests, SemaphoreSlim window, StreamProgress progress, CancellationToken cancellationToken)
    {
        while (_carried is not null || await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Window first, then collect: what arrives while the window is shut joins the next batch.
            await window.WaitAsync(cancellationToken).ConfigureAwait(false);
            var batch = TakeBatch(out int traced);
            if (batch is null)
            {
                window.Release();
                continue;
            }
            // Counted before the write: the acknowledgement may race the write's completion.
            Interlocked.Increment(ref progress.Sent);
            RaisePeak(Interlocked.Increment(ref _unackedBatches));
            try
            {
                await requests.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Whether the peer got it is unknown; Paxos retransmits what matters, so it is not retried here.
                Interlocked.Add(ref _messagesDropped, batch.Messages.Count);
                throw;
            }
            Interlocked.Increment(ref _batchesSent);
            Interlocked.Add(ref _messagesSent, batch.Messages.Count);
            if (traced > 0) Interlocked.Add(ref _tracedMessagesSent, traced);
        }
    }

    /// <summary>Reads acknowledgements until the stream ends; returns why it ended (never throws).</summary>
    private async Task<Exception> ReadAcksAsync(
        IAsyncStreamReader<Wire.PeerBatchAck> acks, SemaphoreSlim window, StreamProgress progress, Uri endpoint, CancellationTokenSource session)
    {
        try
        {
            while (await acks.MoveNext(session.Token).ConfigureAwait(false))
            {
                // Cumulative counts make a lost or coalesced acknowledgement harmless.
                ulong total = acks.Current.BatchesReceived;
                long sent = Volatile.Read(ref progress.Sent);
                if (total > (ulong)sent || total < (ulong)progress.Acked)
                    throw new InvalidDataException($"Node {_nodeId} acknowledged {total} batches after {progress.Acked} of {sent} sent.");
                int newlyAcked = (int)(total - (ulong)progress.Acked);
                if (acks.Current.GoingAway && newlyAcked == 0) throw new PeerGoingAwayException(_nodeId);
                if (newlyAcked == 0) continue;
                if (progress.Acked == 0) PeerLog.StreamOpened(_logger, _nodeId, endpoint);
                progress.Acked = (long)total;
                Interlocked.Add(ref _batchesAcked, newlyAcked);
                Interlocked.Add(ref _unackedBatches, -newlyAcked);
                window.Release(newlyAcked);
                if (acks.Current.GoingAway) throw new PeerGoingAwayException(_nodeId);
            }
            return new IOException($"Node {_nodeId} closed the peer stream.");
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            // Wakes the writer wherever it waits, so that the stream is reopened.
            await session.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Up to BatchMessagesMax messages and about BatchBytesMax bytes from the queue; null when none.
    /// <paramref name="traced"/>: how many of them carry trace contexts.
    /// </summary>
    private Wire.PeerBatch? TakeBatch(out int traced)
    {
        traced = 0;
        var batch = new Wire.PeerBatch { FromNode = _selfNodeId, ToNode = _nodeId };
        long batchBytes = 0;
        while (batch.Messages.Count < _options.BatchMessagesMax)
        {
            var next = _carried;
            _carried = null;
            if (next is null)
            {
                if (!_queue.Reader.TryRead(out var item)) break;
                next = Encode(item);
                if (next is null) continue;
            }
            // The repeated field's tag plus the length-prefixed message.
            int sizeBytes = 1 + CodedOutputStream.ComputeMessageSize(next);
            if (sizeBytes > _options.MessageBytesMax)
            {
                Interlocked.Increment(ref _messagesDropped);
                PeerLog.MessageTooLarge(_logger, _nodeId, next.BodyCase.ToString(), sizeBytes);
                continue;
            }
            if (batch.Messages.Count > 0 && batchBytes + sizeBytes > _options.BatchBytesMax)
            {
                _carried = next;
                break;
            }
            batch.Messages.Add(next);
            batchBytes += sizeBytes;
            if (next.Trace is not null) traced++;
        }
        return batch.Messages.Count > 0 ? batch : null;
    }

    private Wire.PaxosMessage? Encode(Outbound item)
    {
        try
        {
            var wire = PaxosMessageCodec.ToProto(item.GroupId, item.Message);
            if (item.Traces is { Count: > 0 } traces) wire.Trace = PeerTraceCodec.ToProto(traces);
            return wire;
        }
        catch (ArgumentException e)
        {
            Interlocked.Increment(ref _messagesDropped);
            PeerLog.EncodeFailed(_logger, _nodeId, item.Message.GetType().Name, e);
            return null;
        }
    }

    private void RaisePeak(int unacked)
    {
        int peak = Volatile.Read(ref _unackedBatchesPeak);
        while (unacked > peak)
        {
            int seen = Interlocked.CompareExchange(ref _unackedBatchesPeak, unacked, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    /// <summary>Batch counts of one stream; Sent is written by the writer, Acked by the reader.</summary>
    private sealed class StreamProgress
    {
        public long Sent;
        public long Acked;
    }
}
