using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Kv.Paxos;
using Kv.Server.Replication;
using Kv.Storage;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

public sealed partial class KvService
{
    // Writes without a client id (0: no deduplication) still need distinct (client, sequence) pairs: the host
    // matches a proposal's waiter by that pair and treats a second proposal with the same pair as a retry of the
    // first. So they get sequences from this process-wide counter (the state machine ignores them).
    private static long s_anonymousSequence;

    /// <summary>
    /// Runs an RPC's body and turns whatever it throws into a status: the body's own <see cref="RpcException"/>s pass
    /// through, anything else goes through <see cref="Translate"/>.
    /// </summary>
    private async Task<T> ServeAsync<T>(string method, ServerCallContext context, Func<CancellationToken, Task<T>> body)
    {
        try
        {
            return await body(context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw Translate(method, context, e);
        }
    }

    /// <summary>The status for an exception that is not already one.</summary>
    private RpcException Translate(string method, ServerCallContext context, Exception e)
    {
        switch (e)
        {
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return context.Deadline <= DateTime.UtcNow
                    ? KvErrors.Plain(StatusCode.DeadlineExceeded, "The deadline passed; a write may still apply (retry it with the same write_id).")
                    : KvErrors.Plain(StatusCode.Cancelled, "The call was cancelled; a write may still apply (retry it with the same write_id).");
            case OperationCanceledException:
                // Not our caller's token: the host dropped the waiter — a newer retry of the same write took its
                // place, or the node is stopping.
                return KvErrors.Plain(StatusCode.Unavailable,
                    "The replica abandoned the request (a retry of the same write_id superseded it, or the node is stopping); "
                    + "the write may still apply: retry it with the same write_id.");
            case ChannelClosedException:
                return KvErrors.Plain(StatusCode.Unavailable, "The node is stopping; retry at another replica.");
            // ReplicaHost reports a full proposal queue only as this message (RequestStatus.Busy); overload is
            // retryable, not an internal error.
            case InvalidOperationException when e.Message.Contains(nameof(RequestStatus.Busy), StringComparison.Ordinal):
                KvApiLog.Busy(_logger, method);
                return KvErrors.Plain(StatusCode.Unavailable, "The range is busy (too many requests queued); retry after a short backoff.");
            case StorageCorruptionException:
                KvApiLog.Corruption(_logger, method, e);
                return KvErrors.Plain(StatusCode.DataLoss, $"Corrupt data found while serving the request: {e.Message}");
            default:
                KvApiLog.Unexpected(_logger, method, e);
                return KvErrors.Plain(StatusCode.Internal, $"Internal error ({e.GetType().Name}): {e.Message}");
        }
    }

    // ReplicaHost reports a range it does not host only as this exception and message. The locator routed the key
    // there, so the range moved off this node (or the locator is ahead of the host): the client's to redirect, not
    // an internal error.
    private static bool IsRangeNotHosted(KeyNotFoundException e) => e.Message.Contains("is not hosted", StringComparison.Ordinal);

    /// <summary>
    /// Stamps <paramref name="command"/> with a clock timestamp, proposes it to the range as the write
    /// <paramref name="writeId"/>, and returns the state machine's result, or throws the status for a result that
    /// could not apply.
    /// </summary>
    private async Task<Wire.RangeCommandResult> ProposeAsync(
        RangeRoute route, ByteString key, Wire.WriteId? writeId, Wire.RangeCommand command, CancellationToken ct)
    {
        var now = await _clock.NowAsync(ct).ConfigureAwait(false);
        command.Timestamp = ToWire(now);
        long clientId = writeId is null ? 0 : checked((long)writeId.ClientId);
        long sequence = clientId == 0 ? Interlocked.Increment(ref s_anonymousSequence) : checked((long)writeId!.Sequence);
        Wire.RangeCommandResult result;
        try
        {
            result = await _host.ProposeAsync(route.RangeId, new Command(clientId, sequence, command.ToByteArray()), ct).ConfigureAwait(false);
        }
        catch (NotLeaderException e)
        {
            throw KvErrors.NotLeader(route, e.LeaderHint);
        }
        catch (KeyNotFoundException e) when (IsRangeNotHosted(e))
        {
            throw KvErrors.RangeNotHosted(route);
        }
        if (result.Error.Length == 0) return result;
        // The state machine's verdicts are strings (RangeStateMachine); these two are the client's to act on.
        if (result.Error.Contains("newer write", StringComparison.Ordinal))
            throw KvErrors.Plain(StatusCode.FailedPrecondition,
                $"write_id (client {clientId}, sequence {sequence}) is older than a write of this client already applied: "
                + "it was applied before, but its answer is no longer kept; a new write needs a new sequence.");
        if (result.Error.Contains("outside range", StringComparison.Ordinal))
            throw KvErrors.RangeMoved(_locator.Locate(key.Span),
                $"Range {route.RangeId} no longer holds key {KeyDisplay.Printable(key.Span)} ({result.Error}); refresh the range descriptor.");
        KvApiLog.CommandRejected(_logger, route.RangeId, result.Error);
        throw KvErrors.Plain(StatusCode.Internal, $"Range {route.RangeId} could not apply the write: {result.Error}");
    }
}
