using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Clock;
using Kv.Server.Configuration;
using Kv.Server.Replication;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// The public client API (proto/kv/v1/kv.proto) over this node's replicas; docs/api.md describes each RPC, its
/// errors and limits.
/// <para>
/// Every request is checked first (<see cref="KvRequestValidator"/>: nothing is proposed or read for an invalid
/// one), then routed by <see cref="IRangeLocator"/>. Writes take a timestamp from the hybrid logical clock and are
/// proposed through the range's Paxos group as one <see cref="Wire.RangeCommand"/>; their answer is the state
/// machine's <see cref="Wire.RangeCommandResult"/>, which the range also keeps per client so that a retry with the
/// same <see cref="Wire.WriteId"/> gets the first answer and changes nothing. Reads are linearizable, through the
/// leader's lease or a read-index round, or serializable, from this node's own replica (KvService.Serializable). Every failure leaves as a status (<see cref="KvErrors"/>), never as a crash.
/// </para>
/// </summary>
public sealed partial class KvService : Wire.Kv.KvBase
{
    private readonly ReplicaHost _host;
    private readonly HybridLogicalClock _clock;
    private readonly IRangeLocator _locator;
    private readonly KvApiLimits _limits;
    private readonly KvRequestValidator _validate;
    private readonly ILogger _logger;
    private readonly Kv.Txn.Coordination.TxnCoordinator? _txns;
    private readonly int _nodeId;

    /// <summary>Creates the service (one per call, as gRPC activates it; it holds no state of its own).</summary>
    public KvService(
        ReplicaHost host, HybridLogicalClock clock, IRangeLocator locator, NodeOptions nodeOptions, ILogger<KvService> logger,
        KvApiLimits? limits = null, Kv.Txn.Coordination.TxnCoordinator? txns = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(nodeOptions);
        ArgumentNullException.ThrowIfNull(logger);
        _host = host;
        _clock = clock;
        _locator = locator;
        _limits = limits ?? new KvApiLimits();
        _limits.Validate();
        _validate = new KvRequestValidator(nodeOptions, _limits);
        _logger = logger;
        _txns = txns;
        _nodeId = nodeOptions.NodeId;
    }

    /// <inheritdoc />
    public override Task<Wire.GetResponse> Get(Wire.GetRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Get), context, ct =>
        {
            _validate.Get(request);
            return GetCoreAsync(request, ct);
        });

    /// <inheritdoc />
    public override Task<Wire.PutResponse> Put(Wire.PutRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Put), context, ct =>
        {
            _validate.Put(request);
            return PutCoreAsync(request, ct);
        });

    /// <inheritdoc />
    public override Task<Wire.DeleteResponse> Delete(Wire.DeleteRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Delete), context, ct =>
        {
            _validate.Delete(request);
            return DeleteCoreAsync(request, ct);
        });

    /// <inheritdoc />
    public override Task<Wire.CompareAndSetResponse> CompareAndSet(Wire.CompareAndSetRequest request, ServerCallContext context) =>
        ServeAsync(nameof(CompareAndSet), context, ct =>
        {
            _validate.CompareAndSet(request);
            return CompareAndSetCoreAsync(request, ct);
        });

    /// <inheritdoc />
    public override Task<Wire.ScanResponse> Scan(Wire.ScanRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Scan), context, ct =>
        {
            _validate.Scan(request);
            return ScanCoreAsync(request, ct);
        });

    /// <summary>
    /// Applies the operations one by one, in order, each as its own RPC would (atomic single-range batches come
    /// later). Every operation is checked before the first is applied; if one then fails, the batch stops and the
    /// status is that operation's, with the operations before it applied and none after.
    /// </summary>
    public override Task<Wire.BatchResponse> Batch(Wire.BatchRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Batch), context, async ct =>
        {
            _validate.Batch(request);
            var response = new Wire.BatchResponse();
            long getBytes = 0;
            for (int i = 0; i < request.Operations.Count; i++)
            {
                var op = request.Operations[i];
                try
                {
                    var result = new Wire.BatchResult();
                    switch (op.OpCase)
                    {
                        case Wire.BatchOperation.OpOneofCase.Get:
                            result.Get = await GetCoreAsync(op.Get, ct).ConfigureAwait(false);
                            getBytes += op.Get.Key.Length + result.Get.Value.Length;
                            if (getBytes > _limits.BatchResponseBytesMax)
                                throw KvErrors.Plain(StatusCode.ResourceExhausted,
                                    $"the batch's gets return more than {_limits.BatchResponseBytesMax} bytes; split the batch");
                            break;
                        case Wire.BatchOperation.OpOneofCase.Put:
                            result.Put = await PutCoreAsync(op.Put, ct).ConfigureAwait(false);
                            break;
                        case Wire.BatchOperation.OpOneofCase.Delete:
                            result.Delete = await DeleteCoreAsync(op.Delete, ct).ConfigureAwait(false);
                            break;
                    }
                    response.Results.Add(result);
                }
                catch (Exception e)
                {
                    throw KvErrors.InBatch(e as RpcException ?? Translate(nameof(Batch), context, e), i);
                }
            }
            return response;
        });

    private async Task<Wire.GetResponse> GetCoreAsync(Wire.GetRequest request, CancellationToken ct)
    {
        byte[] key = request.Key.ToByteArray();
        if (request.Consistency == Wire.ReadConsistency.Serializable && await GetAppliedAsync(request.Key, key, ct).ConfigureAwait(false) is { } local)
            return local;
        var at = await SnapshotTimestampAsync(request.Consistency, request.ReadTimestamp, ct).ConfigureAwait(false);
        for (int attempt = 0; ; attempt++)
        {
            var (read, held) = await RoutedAsync(request.Key, async route =>
            {
                if (at != StorageTimestamp.Max) await ClosedTimestamps.EnsureAsync(_host, _clock, route.RangeId, at, ct).ConfigureAwait(false);
                return await _host.ReadWithLockAsync(route.RangeId, key, at, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            if (read.Status == MvccReadStatus.StagedVersionEncountered)
            {
                // A transaction is committing this key: wait for it, or finish it if its coordinator is gone.
                await WaitForTransactionAsync(request.Key.Span, read.Staged, held, attempt, ct).ConfigureAwait(false);
                continue;
            }
            return ToGetResponse(read);
        }
    }

    /// <summary>The read timestamp of a request: the latest (linearizable), or a stable snapshot's (given, or now).</summary>
    private async ValueTask<StorageTimestamp> SnapshotTimestampAsync(Wire.ReadConsistency consistency, Wire.Timestamp? readTimestamp, CancellationToken ct)
    {
        if (consistency != Wire.ReadConsistency.Snapshot) return StorageTimestamp.Max;
        if (readTimestamp is not null) return new StorageTimestamp(readTimestamp.WallNanos, readTimestamp.Logical);
        return await _clock.NowAsync(ct).ConfigureAwait(false);
    }

    private static Wire.GetResponse ToGetResponse(MvccReadResult read) => read.HasValue
            ? new Wire.GetResponse { Found = true, Value = UnsafeByteOperations.UnsafeWrap(read.Value), Version = ToWire(read.VersionTimestamp) }
            : new Wire.GetResponse { Found = false };

    private Task WaitForTransactionAsync(ReadOnlySpan<byte> key, StagedIntent staged, Wire.TxnLock? held, int attempt, CancellationToken ct)
    {
        if (_txns is null || held is null) throw StagedEncountered(key, staged);
        return _txns.WaitOrRecoverAsync(held, attempt, ct);
    }

    private async Task<Wire.PutResponse> PutCoreAsync(Wire.PutRequest request, CancellationToken ct)
    {
        var command = new Wire.RangeCommand { Put = new Wire.RangePut { Key = request.Key, Value = request.Value } };
        var result = await ProposeAsync(request.Key, request.WriteId, command, ct).ConfigureAwait(false);
        return new Wire.PutResponse { Version = result.NewVersion };
    }

    private async Task<Wire.DeleteResponse> DeleteCoreAsync(Wire.DeleteRequest request, CancellationToken ct)
    {
        var command = new Wire.RangeCommand { Delete = new Wire.RangeDelete { Key = request.Key } };
        var result = await ProposeAsync(request.Key, request.WriteId, command, ct).ConfigureAwait(false);
        return new Wire.DeleteResponse { Found = result.Found };
    }

    private async Task<Wire.CompareAndSetResponse> CompareAndSetCoreAsync(Wire.CompareAndSetRequest request, CancellationToken ct)
    {
        var cas = new Wire.RangeCompareAndSet { Key = request.Key };
        switch (request.ConditionCase)
        {
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectAbsent:
                cas.ExpectAbsent = true;
                break;
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectedVersion:
                cas.ExpectedVersion = request.ExpectedVersion;
                break;
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectedValue:
                cas.ExpectedValue = request.ExpectedValue;
                break;
        }
        if (request.HasNewValue) cas.NewValue = request.NewValue;
        var result = await ProposeAsync(request.Key, request.WriteId, new Wire.RangeCommand { CompareAndSet = cas }, ct)
            .ConfigureAwait(false);
        // A failed condition is an answer, not an error: the caller gets what the key holds instead.
        return new Wire.CompareAndSetResponse
        {
            Succeeded = result.Succeeded,
            Found = result.Found,
            CurrentValue = result.CurrentValue,
            CurrentVersion = result.CurrentVersion,
            NewVersion = result.NewVersion,
        };
    }

    private static RpcException StagedEncountered(ReadOnlySpan<byte> key, StagedIntent staged) =>
        KvErrors.Plain(StatusCode.FailedPrecondition,
            $"key {KeyDisplay.Printable(key)} has a staged version of transaction {staged.TxnId} at {staged.ProvisionalTimestamp} "
            + "whose lock this node cannot find; retry shortly");

    private static Wire.Timestamp ToWire(Kv.Storage.Encoding.Timestamp t) => new() { WallNanos = t.WallNanos, Logical = t.Logical };
}
