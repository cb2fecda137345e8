using System.Diagnostics;
using Grpc.Core;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

/// <summary>
/// Coalesces the gets, puts and deletes bound for one node into <c>Bundle</c> calls once that node has
/// <see cref="KvClientOptions.BundleCallsInFlight"/> calls of them in flight (TiKV's client batches its commands the
/// same way). Below that every request leaves at once as its own call, so a lightly loaded client pays nothing;
/// above it, requests wait for the next call to finish and then leave together, so the fixed cost of a call (HTTP/2
/// stream, headers, dispatch, on both sides) is paid once per bundle instead of once per request. That cost is most
/// of what a small request costs the client and a good part of what it costs the node (bench/results/bundling-and-memory.md).
/// </summary>
/// <remarks>
/// Each request keeps its own outcome: the node runs a bundle's operations as independent calls and answers each
/// with its result or the status its own call would have failed with, which <see cref="KvClient"/> classifies and
/// retries per request exactly as before. A bundle that fails as a whole (the node unreachable, its deadline) fails
/// each of its requests with that error. A request whose attempt is cancelled or reaches its deadline (the shared
/// timeout token, or the gRPC deadline) while it waits, or while its bundle is in flight, fails at once; its
/// operation may still run, as a timed-out call's may.
/// </remarks>
internal sealed class RequestBundler(Wire.Kv.KvClient stub, KvClientOptions options)
{
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private int _inFlight;
    // Set when the node does not know Bundle (an older version): from then on every request leaves alone.
    private volatile bool _unsupported;

    public Task<Wire.GetResponse> GetAsync(Wire.GetRequest request, CallOptions call) =>
        _unsupported ? stub.GetAsync(request, call).ResponseAsync
        : TryStartAlone() ? AloneAsync(static (s, r, c) => s.GetAsync(r, c).ResponseAsync, request, call)
        : BundledAsync(new Wire.BatchOperation { Get = request }, call, static r => r.Get);

    public Task<Wire.PutResponse> PutAsync(Wire.PutRequest request, CallOptions call) =>
        _unsupported ? stub.PutAsync(request, call).ResponseAsync
        : TryStartAlone() ? AloneAsync(static (s, r, c) => s.PutAsync(r, c).ResponseAsync, request, call)
        : BundledAsync(new Wire.BatchOperation { Put = request }, call, static r => r.Put);

    public Task<Wire.DeleteResponse> DeleteAsync(Wire.DeleteRequest request, CallOptions call) =>
        _unsupported ? stub.DeleteAsync(request, call).ResponseAsync
        : TryStartAlone() ? AloneAsync(static (s, r, c) => s.DeleteAsync(r, c).ResponseAsync, request, call)
        : BundledAsync(new Wire.BatchOperation { Delete = request }, call, static r => r.Delete);

    /// <summary>Requests waiting for a call slot now; for tests.</summary>
    internal int Waiting
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>Takes a call slot when one is free and nobody waits (waiters go first); false: the request must wait.</summary>
    private bool TryStartAlone()
    {
        lock (_gate)
        {
            if (_inFlight >= options.BundleCallsInFlight || _waiting.Count > 0) return false;
            _inFlight++;
            return true;
        }
    }

    private async Task<TResponse> AloneAsync<TRequest, TResponse>(
        Func<Wire.Kv.KvClient, TRequest, CallOptions, Task<TResponse>> send, TRequest request, CallOptions call)
    {
        try
        {
            return await send(stub, request, call).ConfigureAwait(false);
        }
        finally
        {
            CallEnded();
        }
    }

    private async Task<T> BundledAsync<T>(Wire.BatchOperation op, CallOptions call, Func<Wire.BundleResult, T> pick)
    {
        var pending = new Pending(op, call);
        bool start;
        lock (_gate)
        {
            _waiting.Enqueue(pending);
            // Every slot may have ended between TryStartAlone and here: then nobody would send the queue.
            start = _inFlight < options.BundleCallsInFlight;
            if (start) _inFlight++;
        }
        if (start) SendNext();
        var result = await pending.Result.ConfigureAwait(false);
        if (result.OutcomeCase == Wire.BundleResult.OutcomeOneofCase.Error)
        {
            var status = new Google.Rpc.Status { Code = result.Error.Code, Message = result.Error.Message };
            status.Details.Add(result.Error.Details);
            throw status.ToRpcException();
        }
        return pick(result);
    }

    /// <summary>A call ended: its slot sends the next bundle when requests wait, else it is free.</summary>
    private void CallEnded()
    {
        lock (_gate)
        {
            if (_waiting.Count == 0)
            {
                _inFlight--;
                return;
            }
        }
        SendNext();
    }

    /// <summary>Sends the waiting requests (up to <see cref="KvClientOptions.BundleOperationsMax"/>) in one call, in the slot the caller holds.</summary>
    private void SendNext()
    {
        var bundle = new List<Pending>();
        lock (_gate)
        {
            while (bundle.Count < options.BundleOperationsMax && _waiting.TryDequeue(out var next))
                if (!next.Result.IsCompleted) bundle.Add(next); // its attempt was cancelled while it waited
        }
        if (bundle.Count == 0) CallEnded();
        else _ = SendAsync(bundle);
    }

    private async Task SendAsync(List<Pending> bundle)
    {
        // The bundle belongs to no request's trace (it carries several): each operation names its own instead.
        Activity.Current = null;
        try
        {
            var request = new Wire.BundleRequest();
            foreach (var pending in bundle) request.Operations.Add(pending.Op);
            if (bundle.Exists(p => p.TraceParent is not null))
                foreach (var pending in bundle) request.TraceParents.Add(pending.TraceParent ?? "");
            // One deadline for the bundle: its requests' own timeouts (or cancellation) end their waits on their own.
            var response = await stub.BundleAsync(request, new CallOptions(deadline: DateTime.UtcNow + options.PerCallTimeout)).ResponseAsync.ConfigureAwait(false);
            if (response.Results.Count != bundle.Count)
                throw new RpcException(new Status(StatusCode.Internal, $"the node answered a bundle of {bundle.Count} operations with {response.Results.Count} results"));
            for (int i = 0; i < bundle.Count; i++) bundle[i].Complete(response.Results[i]);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            _unsupported = true;
            foreach (var pending in bundle) _ = pending.SendAloneAsync(stub);
        }
        catch (Exception e)
        {
            foreach (var pending in bundle) pending.Fail(e);
        }
        finally
        {
            CallEnded();
        }
    }

    /// <summary>A request waiting for its bundle's answer; its attempt's cancellation or deadline ends the wait.</summary>
    private sealed class Pending
    {
        private readonly TaskCompletionSource<Wire.BundleResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CallOptions _call;
        private readonly CancellationTokenRegistration _cancellation;
        private readonly CancellationTokenSource? _deadline;

        public Pending(Wire.BatchOperation op, CallOptions call)
        {
            Op = op;
            _call = call;
            // The attempt's span, as gRPC would have sent it in a traceparent header of the request's own call.
            if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } span) TraceParent = span.Id;
            if (call.CancellationToken.CanBeCanceled)
                _cancellation = call.CancellationToken.UnsafeRegister(static (state, token) => ((Pending)state!)._result.TrySetCanceled(token), this);
            if (call.Deadline is { } deadline && deadline != DateTime.MaxValue)
            {
                // The attempt's gRPC deadline (set when its caller can cancel): it runs while the request waits too.
                _deadline = new CancellationTokenSource(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                _deadline.Token.UnsafeRegister(static state => ((Pending)state!)._result.TrySetException(
                    new RpcException(new Status(StatusCode.DeadlineExceeded, "the per-call deadline passed while the request waited in a bundle"))), this);
            }
        }

        public Wire.BatchOperation Op { get; }

        /// <summary>The W3C traceparent of the request's attempt; null when it is not traced.</summary>
        public string? TraceParent { get; }

        public Task<Wire.BundleResult> Result => _result.Task;

        public void Complete(Wire.BundleResult result)
        {
            _cancellation.Dispose();
            _deadline?.Dispose();
            _result.TrySetResult(result);
        }

        public void Fail(Exception error)
        {
            _cancellation.Dispose();
            _deadline?.Dispose();
            _result.TrySetException(error);
        }

        /// <summary>Sends the request as its own call (a node without Bundle), with the attempt's own options.</summary>
        public async Task SendAloneAsync(Wire.Kv.KvClient stub)
        {
            try
            {
                Complete(Op.OpCase switch
                {
                    Wire.BatchOperation.OpOneofCase.Get => new Wire.BundleResult { Get = await stub.GetAsync(Op.Get, _call).ResponseAsync.ConfigureAwait(false) },
                    Wire.BatchOperation.OpOneofCase.Put => new Wire.BundleResult { Put = await stub.PutAsync(Op.Put, _call).ResponseAsync.ConfigureAwait(false) },
                    _ => new Wire.BundleResult { Delete = await stub.DeleteAsync(Op.Delete, _call).ResponseAsync.ConfigureAwait(false) },
                });
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
    }
}
