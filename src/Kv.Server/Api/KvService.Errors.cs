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
    // matches a proposal's waiter by that pair, treats a second proposal with the same pair as a retry of the first,
    // and also applies commands other nodes proposed while they led. A random 63-bit sequence per write keeps pairs
    // from colliding across nodes and restarts (a counter would restart at 1 on every node); the state machine
    // ignores it.

    /// <summary>
    /// Runs an RPC's body and turns whatever it throws into a status: the body's own <see cref="RpcException"/>s pass
    /// through, anything else goes through <see cref="Translate"/>.
    /// </summary>
    private async Task<T> ServeAsync<T>(string method, ServerCallContext context, Func<CancellationToken, Task<T>> body)
    {
        using var span = Telemetry.KvTracing.StartApiCall("kv.v1.Kv", method, _nodeId);
        try
        {
            return await body(context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Telemetry.KvTracing.Fail(span, e);
            throw;
        }
        catch (Exception e)
        {
            throw Telemetry.KvTracing.Fail(span, Translate(method, context, e));
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
            case Kv.Server.Clock.ClockForwardJumpException:
                return KvErrors.InvalidArgument("read_timestamp", $"too far ahead of this node's clock: {e.Message}");
            case StorageCorruptionException:
                KvApiLog.Corruption(_logger, method, e);
                return KvErrors.Plain(StatusCode.DataLoss, $"Corrupt data found while serving the request: {e.Message}");
            default:
                KvApiLog.Unexpected(_logger, method, e);
                return KvErrors.Plain(StatusCode.Internal, $"Internal error ({e.GetType().Name}): {e.Message}");
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> against the route of <paramref name="key"/>. When the range turns out not
    /// to hold the key any more (a split this node applied after routing), routes again with the updated directory;
    /// a route that stays wrong becomes RangeMoved. A range this node does not host becomes RangeMoved with the
    /// range's replicas, so that the client tries them.
    /// </summary>
    private Task<T> RoutedAsync<T>(ByteString key, Func<RangeRoute, Task<T>> operation, Func<RangeRoute>? locate = null) =>
        RequestRouting.RoutedAsync(_locator, key, async route =>
        {
            // Lines logged while serving the range say which one (docs/observability.md, Logs).
            using (_logger.BeginScope(new Dictionary<string, object> { ["range_id"] = route.RangeId }))
                return await operation(route).ConfigureAwait(false);
        }, locate);

    /// <summary>
    /// Stamps <paramref name="command"/> with a clock timestamp, proposes it to the key's range as the write
    /// <paramref name="writeId"/>, and returns the state machine's result, or throws the status for a result that
    /// could not apply.
    /// </summary>
    private async Task<Wire.RangeCommandResult> ProposeAsync(ByteString key, Wire.WriteId? writeId, Wire.RangeCommand command, CancellationToken ct)
    {
        long clientId = writeId is null ? 0 : checked((long)writeId.ClientId);
        long sequence = clientId == 0 ? Random.Shared.NextInt64(1, long.MaxValue) : checked((long)writeId!.Sequence);
        return await RoutedAsync(key, async route =>
        {
            var result = await ProposeOnceAsync(route.RangeId, clientId, sequence, command, ct).ConfigureAwait(false);
            // A transaction holds the key: the range changed nothing and kept no session, so once the transaction is
            // finished the same write (same id) is proposed again.
            for (int attempt = 0; result.LockedBy is { } held; attempt++)
            {
                if (_txns is null) throw KvErrors.Plain(StatusCode.Unavailable, "a transaction holds the key; retry shortly");
                await _txns.WaitOrRecoverAsync(held, attempt, ct).ConfigureAwait(false);
                result = await ProposeOnceAsync(route.RangeId, clientId, sequence, command, ct).ConfigureAwait(false);
            }
            if (result.Error.Length == 0) return result;
            // The state machine's verdicts are strings (RangeStateMachine); these two are the client's to act on.
            if (result.Error.Contains("newer write", StringComparison.Ordinal))
                throw KvErrors.Plain(StatusCode.FailedPrecondition,
                    $"write_id (client {clientId}, sequence {sequence}) is older than a write of this client already applied: "
                    + "it was applied before, but its answer is no longer kept; a new write needs a new sequence.");
            // Refused by the range, so not applied: safe to send to the range that holds the key now.
            if (result.Error.Contains("outside range", StringComparison.Ordinal))
                throw new RangeMovedException(route.RangeId, $"key {KeyDisplay.Printable(key.Span)} ({result.Error})");
            KvApiLog.CommandRejected(_logger, route.RangeId, result.Error);
            throw KvErrors.Plain(StatusCode.Internal, $"Range {route.RangeId} could not apply the write: {result.Error}");
        }).ConfigureAwait(false);
    }

    private async Task<Wire.RangeCommandResult> ProposeOnceAsync(ulong rangeId, long clientId, long sequence, Wire.RangeCommand command, CancellationToken ct)
    {
        var now = await _clock.NowAsync(ct).ConfigureAwait(false);
        command.Timestamp = ToWire(now);
        return await _host.ProposeAsync(rangeId, new Command(clientId, sequence, command.ToByteArray()), ct).ConfigureAwait(false);
    }
}
