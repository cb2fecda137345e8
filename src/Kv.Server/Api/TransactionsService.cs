using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Clock;
using Kv.Server.Configuration;
using Kv.Server.Replication;
using Kv.Server.Txn;
using Kv.Storage.Mvcc;
using Kv.Txn;
using Kv.Txn.Coordination;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// The transactions API (proto/kv/v1/txn.proto, docs/transactions.md): read timestamps from this node's clock,
/// reads at a timestamp that wait for (or finish) transactions committing the key, and commits coordinated here.
/// </summary>
public sealed class TransactionsService : Wire.Transactions.TransactionsBase
{
    private readonly ReplicaHost _host;
    private readonly HybridLogicalClock _clock;
    private readonly IRangeLocator _locator;
    private readonly TxnCoordinator _coordinator;
    private readonly KvRequestValidator _validate;
    private readonly KvApiLimits _limits = new();
    private readonly ILogger _logger;
    private readonly int _nodeId;

    /// <summary>Created by gRPC per call.</summary>
    public TransactionsService(ReplicaHost host, HybridLogicalClock clock, IRangeLocator locator, TxnCoordinator coordinator, NodeOptions options,
        ILogger<TransactionsService> logger)
    {
        _host = host;
        _clock = clock;
        _locator = locator;
        _coordinator = coordinator;
        _validate = new KvRequestValidator(options, _limits);
        _logger = logger;
        _nodeId = options.NodeId;
    }

    /// <inheritdoc />
    public override async Task<Wire.BeginTransactionResponse> Begin(Wire.BeginTransactionRequest request, ServerCallContext context)
    {
        var now = await _clock.NowAsync(context.CancellationToken).ConfigureAwait(false);
        return new Wire.BeginTransactionResponse { ReadTimestamp = TxnWire.ToWire(now) };
    }

    /// <inheritdoc />
    public override Task<Wire.TxnReadResponse> Read(Wire.TxnReadRequest request, ServerCallContext context) =>
        ServeAsync(context, async ct =>
        {
            _validate.TxnRead(request);
            PessimisticReads.CheckNotStable(request.Lock, request.Stable);
            byte[] key = request.Key.ToByteArray();
            var at = TxnWire.ToStorage(request.ReadTimestamp);
            for (int attempt = 0; ; attempt++)
            {
                var (read, held) = await RequestRouting.RoutedAsync(_locator, request.Key, async route =>
                {
                    if (request.Stable) await ClosedTimestamps.EnsureAsync(_host, _clock, route.RangeId, at, ct).ConfigureAwait(false);
                    var readAt = await PessimisticReads.LockKeyAsync(_coordinator, request.Lock, request.LockForWrite, route, request.Key, at, ct).ConfigureAwait(false);
                    return await _host.ReadWithLockAsync(route.RangeId, key, readAt, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
                if (read.Status != MvccReadStatus.StagedVersionEncountered)
                {
                    var response = new Wire.TxnReadResponse { Found = read.HasValue };
                    if (read.HasValue) response.Value = UnsafeByteOperations.UnsafeWrap(read.Value);
                    if (read.VersionTimestamp > Kv.Storage.Encoding.Timestamp.Zero) response.Version = TxnWire.ToWire(read.VersionTimestamp);
                    return response;
                }
                // A transaction may commit this key at or below the read timestamp: its answer decides what we see.
                if (held is null) throw KvErrors.Plain(StatusCode.Unavailable, "the key's staged version has no lock here yet; retry");
                await _coordinator.WaitOrRecoverAsync(held, attempt, ct).ConfigureAwait(false);
            }
        });

    /// <inheritdoc />
    public override Task<Wire.TxnScanResponse> Scan(Wire.TxnScanRequest request, ServerCallContext context) =>
        ServeAsync(context, async ct =>
        {
            _validate.TxnScan(request);
            PessimisticReads.CheckNotStable(request.Lock, request.Stable);
            byte[] start = request.StartKey.ToByteArray();
            byte[]? end = request.EndKey.IsEmpty ? null : request.EndKey.ToByteArray();
            int limit = request.Limit == 0 ? _limits.ScanLimitDefault : (int)request.Limit;
            var at = TxnWire.ToStorage(request.ReadTimestamp);
            RangeRoute Locate() => request.Reverse ? _locator.LocateBefore(end ?? []) : _locator.Locate(start);
            RangeRoute route = null!;
            for (int attempt = 0; ; attempt++)
            {
                var page = await RequestRouting.RoutedAsync(_locator, request.StartKey, async r =>
                {
                    route = r;
                    if (request.Stable) await ClosedTimestamps.EnsureAsync(_host, _clock, r.RangeId, at, ct).ConfigureAwait(false);
                    var clipped = ScanPaging.Clip(new KeySpan(start, end), r.Span);
                    var readAt = await PessimisticReads.LockSpanAsync(_coordinator, request.Lock, r, clipped, at, ct).ConfigureAwait(false);
                    return await _host.ScanAsync(r.RangeId, clipped, limit, request.Reverse, resumeKey: null, ct, readAt).ConfigureAwait(false);
                }, Locate).ConfigureAwait(false);
                var staged = page.Entries.FirstOrDefault(e => e.Result.Status == MvccReadStatus.StagedVersionEncountered);
                if (staged.Key is not null)
                {
                    // A transaction may commit a key of the page at or below the read timestamp: wait for it or finish it.
                    var held = await _host.WriteLocksAsync(route.RangeId, [staged.Key], ct).ConfigureAwait(false);
                    if (held.Count == 0) throw KvErrors.Plain(StatusCode.Unavailable, "a staged version has no lock here yet; retry");
                    await _coordinator.WaitOrRecoverAsync(held[0], attempt, ct).ConfigureAwait(false);
                    continue;
                }
                var response = new Wire.TxnScanResponse();
                bool cut = ScanPaging.AddEntries(page, response.Entries, _limits.ScanResponseBytesMax);
                response.ResumeKey = ScanPaging.ResumeKey(request.Reverse, request.StartKey, request.EndKey, route,
                    response.Entries.Count > 0 ? response.Entries[^1].Key : null, full: cut || page.ResumeKey is not null);
                return response;
            }
        });

    /// <inheritdoc />
    public override Task<Wire.CommitTransactionResponse> Commit(Wire.CommitTransactionRequest request, ServerCallContext context) =>
        ServeAsync(context, ambiguous: true, async ct =>
        {
            _validate.Commit(request);
            var outcome = await _coordinator.CommitAsync(request, ct).ConfigureAwait(false);
            if (outcome.Status == CommitStatus.Committed)
                return new Wire.CommitTransactionResponse { CommitTimestamp = TxnWire.ToWire(outcome.CommitTimestamp) };
            throw Aborted(outcome.Reason, outcome.Key, outcome.ConflictingTxn);
        });

    /// <inheritdoc />
    public override Task<Wire.TxnStageResponse> Stage(Wire.TxnStageRequest request, ServerCallContext context) =>
        ServeAsync(context, ambiguous: true, async ct =>
        {
            _validate.TxnStage(request);
            var outcome = await _coordinator.StageAsync(request, ct).ConfigureAwait(false);
            if (outcome.Staged) return new Wire.TxnStageResponse { Staged = true };
            var conflict = new Wire.TxnConflict { Reason = outcome.Reason };
            if (outcome.Key is not null) conflict.Key = outcome.Key;
            if (outcome.ConflictingTxn is not null) conflict.ConflictingTxnId = outcome.ConflictingTxn;
            return new Wire.TxnStageResponse { Staged = false, Conflict = conflict };
        });

    /// <inheritdoc />
    public override Task<Wire.CommitTransactionResponse> Finish(Wire.TxnFinishRequest request, ServerCallContext context) =>
        ServeAsync(context, ambiguous: true, async _ =>
        {
            _validate.TxnFinish(request);
            // Not the call's token: a finish the client stopped waiting for still ends the transaction.
            var outcome = await _coordinator.FinishAsync(request).ConfigureAwait(false);
            if (outcome.Status == CommitStatus.Committed)
                return new Wire.CommitTransactionResponse { CommitTimestamp = TxnWire.ToWire(outcome.CommitTimestamp) };
            throw Aborted(outcome.Reason, outcome.Key, outcome.ConflictingTxn);
        });

    /// <inheritdoc />
    public override Task<Wire.TxnHeartbeatResponse> Heartbeat(Wire.TxnHeartbeatRequest request, ServerCallContext context) =>
        ServeAsync(context, async ct =>
        {
            var (aborted, interval) = await _coordinator.HeartbeatAsync(request.TxnId, request.HomeKey, request.Keys, ct).ConfigureAwait(false);
            return new Wire.TxnHeartbeatResponse { Aborted = aborted, IntervalMs = (uint)Math.Max(1, interval.TotalMilliseconds) };
        });

    /// <inheritdoc />
    public override Task<Wire.TxnRollbackResponse> Rollback(Wire.TxnRollbackRequest request, ServerCallContext context) =>
        ServeAsync(context, async ct => new Wire.TxnRollbackResponse
        {
            Aborted = await _coordinator.RollbackAsync(request.TxnId, request.HomeKey, request.Keys, request.SpanReads, ct).ConfigureAwait(false),
        });

    /// <summary>ABORTED with a <see cref="Wire.TxnConflict"/> detail: the client runs the transaction again.</summary>
    private static RpcException Aborted(string reason, ByteString? key, ByteString? conflictingTxn)
    {
        var detail = new Wire.TxnConflict { Reason = reason };
        if (key is not null) detail.Key = key;
        if (conflictingTxn is not null) detail.ConflictingTxnId = conflictingTxn;
        var status = new Google.Rpc.Status { Code = (int)StatusCode.Aborted, Message = $"The transaction was aborted: {reason}. Run it again." };
        status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(detail));
        return status.ToRpcException();
    }

    private Task<T> ServeAsync<T>(ServerCallContext context, Func<CancellationToken, Task<T>> body) => ServeAsync(context, ambiguous: false, body);

    /// <summary>
    /// Runs a call and turns failures into statuses. <paramref name="ambiguous"/>: a failure may come after the
    /// call changed something (a commit partly staged), so an unexpected one is UNKNOWN, not a plain "retry".
    /// </summary>
    private async Task<T> ServeAsync<T>(ServerCallContext context, bool ambiguous, Func<CancellationToken, Task<T>> body)
    {
        using var span = Telemetry.KvTracing.StartApiCall(context.Method, _nodeId);
        try
        {
            return await body(context.CancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Telemetry.KvTracing.Fail(span, e);
            throw;
        }
        catch (ArgumentException e)
        {
            throw Telemetry.KvTracing.Fail(span, KvErrors.InvalidArgument("request", e.Message));
        }
        catch (ClockForwardJumpException e)
        {
            throw Telemetry.KvTracing.Fail(span, KvErrors.InvalidArgument(context.Method.EndsWith("/Stage", StringComparison.Ordinal) ? "commit_timestamp" : "read_timestamp",
                $"too far ahead of this node's clock: {e.Message}"));
        }
        catch (TxnAbortedException e)
        {
            throw Aborted(e.Message, null, null);
        }
        catch (TxnOutcomeUnknownException e)
        {
            // Not retryable as a new transaction: it may have committed. The client must read to find out.
            throw Telemetry.KvTracing.Fail(span, KvErrors.Plain(StatusCode.Unknown, $"The transaction's outcome is unknown: {e.Message}"));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw Telemetry.KvTracing.Fail(span, KvErrors.Plain(StatusCode.Cancelled, "The call was cancelled; a commit may still complete."));
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Transaction call failed");
            throw Telemetry.KvTracing.Fail(span, ambiguous
                ? KvErrors.Plain(StatusCode.Unknown, $"The commit failed ({e.GetType().Name}: {e.Message}); its outcome is unknown: read its keys to find out.")
                : KvErrors.Plain(StatusCode.Unavailable, $"The transaction call failed ({e.GetType().Name}: {e.Message}); retry."));
        }
    }
}
