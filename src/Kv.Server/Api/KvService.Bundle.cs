using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

public sealed partial class KvService
{
    /// <summary>
    /// Runs independent operations together, each as its own call would: checked on its own, all at once (the writes
    /// of one range then share Paxos rounds), each answered with its result or the status its own call would have
    /// failed with. Only a malformed bundle as a whole (too many operations) fails the call.
    /// </summary>
    public override Task<Wire.BundleResponse> Bundle(Wire.BundleRequest request, ServerCallContext context) =>
        ServeAsync(nameof(Bundle), context, async ct =>
        {
            _validate.Bundle(request);
            var running = new Task<Wire.BundleResult>[request.Operations.Count];
            for (int i = 0; i < running.Length; i++)
                running[i] = BundledAsync(request.Operations[i], i, i < request.TraceParents.Count ? request.TraceParents[i] : "", context, ct);
            var response = new Wire.BundleResponse();
            // Each task catches its own failures, so none of these awaits throws.
            foreach (var result in running) response.Results.Add(await result.ConfigureAwait(false));
            return response;
        });

    private async Task<Wire.BundleResult> BundledAsync(Wire.BatchOperation op, int index, string traceParent, ServerCallContext context, CancellationToken ct)
    {
        // A traced operation runs in its own request's trace (what it proposes joins it), not the bundle call's.
        using var span = traceParent.Length == 0 ? null : Telemetry.KvTracing.StartBundledCall("kv.v1.Kv", op.OpCase.ToString(), traceParent, _nodeId);
        try
        {
            _validate.Operation(op, index);
            return op.OpCase switch
            {
                Wire.BatchOperation.OpOneofCase.Get => new Wire.BundleResult { Get = await GetCoreAsync(op.Get, ct).ConfigureAwait(false) },
                Wire.BatchOperation.OpOneofCase.Put => new Wire.BundleResult { Put = await PutCoreAsync(op.Put, ct).ConfigureAwait(false) },
                _ => new Wire.BundleResult { Delete = await DeleteCoreAsync(op.Delete, ct).ConfigureAwait(false) },
            };
        }
        catch (Exception e)
        {
            var error = e as RpcException ?? Translate(nameof(Bundle), context, e);
            Telemetry.KvTracing.Fail(span, error);
            var status = error.GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)error.StatusCode, Message = error.Status.Detail };
            var failed = new Wire.OperationError { Code = status.Code, Message = status.Message };
            failed.Details.Add(status.Details);
            return new Wire.BundleResult { Error = failed };
        }
    }
}
