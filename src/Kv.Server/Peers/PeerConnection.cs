using System.Diagnostics;
using System.Threading.Channels;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// The outbound side towards one remote node: a bounded queue that replicas fill without blocking, and one sender
/// loop that keeps a single gRPC stream open to the node, reopening it with backoff when it fails.
/// </summary>
internal sealed partial class PeerConnection : IAsyncDisposable
{
    private readonly ulong _selfNodeId;
    private readonly ulong _nodeId;
    private readonly Func<ulong, Uri?> _resolveEndpoint;
    private readonly PeerTransportOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Outbound> _queue;
    private readonly ReconnectBackoff _backoff;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    // One channel per peer, kept while the peer's endpoint stays the same; touched by the sender loop only.
    private GrpcChannel? _channel;
    private Uri? _channelEndpoint;

    // Counters, written by the loop (and by Send for drops), read by Stats.
    private long _messagesSent;
    private long _messagesDropped;
    private long _batchesSent;
    private long _batchesAcked;
    private long _reconnects;
    private long _tracedMessagesSent;
    private int _unackedBatches;
    private int _unackedBatchesPeak;

    public PeerConnection(ulong selfNodeId, ulong nodeId, Func<ulong, Uri?> resolveEndpoint, PeerTransportOptions options, ILogger logger)
    {
        _selfNodeId = selfNodeId;
        _nodeId = nodeId;
        _resolveEndpoint = resolveEndpoint;
        _options = options;
        _logger = logger;
        // FullMode.Wait makes TryWrite fail (rather than block or evict) when full: Send drops the new message.
        _queue = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(options.OutboundMessagesMax)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
        _backoff = new ReconnectBackoff(options.ReconnectDelayMin, options.ReconnectDelayMax, new Random());
    }

    /// <summary>Starts the sender loop; called once, right after construction.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    // Completed (and replaced) when the peer is heard from while this connection waits to retry.
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The peer just opened a stream to this node, so it is alive: forget the backoff and retry at once if this
    /// connection is waiting. Otherwise, after a restart, messages flow one way for up to the maximum delay, and a
    /// majority that needs both directions cannot form.
    /// </summary>
    public void PeerHeard()
    {
        _backoff.Reset();
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private async Task WaitBeforeRetryAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref _wake).Task;
        await Task.WhenAny(Task.Delay(delay, cancellationToken), wake).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (wake.IsCompleted)
        {
            // The channel keeps its own reconnect backoff from the failures; a fresh one connects at once.
            _channel?.Dispose();
            _channel = null;
        }
    }

    /// <summary>Queues a message without blocking; false (and counted) when the queue is full or closed.</summary>
    public bool TryEnqueue(ulong groupId, Kv.Paxos.PaxosMessage message, IReadOnlyList<Telemetry.TracedSlot>? traces = null)
    {
        if (_queue.Writer.TryWrite(new Outbound(groupId, message, traces))) return true;
        Interlocked.Increment(ref _messagesDropped);
        return false;
    }

    /// <summary>A reading of the counters.</summary>
    public PeerStats Stats() => new(
        _nodeId,
        Interlocked.Read(ref _messagesSent),
        Interlocked.Read(ref _messagesDropped),
        Interlocked.Read(ref _batchesSent),
        Interlocked.Read(ref _batchesAcked),
        Interlocked.Read(ref _reconnects),
        _queue.Reader.Count + (Volatile.Read(ref _carried) is null ? 0 : 1),
        Volatile.Read(ref _unackedBatches),
        Volatile.Read(ref _unackedBatchesPeak),
        Interlocked.Read(ref _tracedMessagesSent));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        bool openedBefore = false;
        long failuresInARow = 0;
        bool reachedOnce = false, warned = false, noticed = false;
        long firstAttempt = 0;
        try
        {
            while (true)
            {
                // Connect only when there is something to send, so that an idle or dead peer costs nothing.
                if (_carried is null && !await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return;
                var endpoint = ResolveEndpoint();
                if (endpoint is null)
                {
                    var wait = _backoff.Next();
                    PeerLog.NoEndpoint(_logger, _nodeId, (long)wait.TotalMilliseconds);
                    await WaitBeforeRetryAsync(wait, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (openedBefore) Interlocked.Increment(ref _reconnects);
                else firstAttempt = Stopwatch.GetTimestamp();
                openedBefore = true;
                bool acked;
                Exception failure;
                try
                {
                    (acked, failure) = await RunStreamAsync(ChannelFor(endpoint), endpoint, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // A bad endpoint (say, an unsupported scheme) or a failure to start the call: retry like any other.
                    (acked, failure) = (false, e);
                }
                cancellationToken.ThrowIfCancellationRequested();
                // A peer that acknowledged something was alive: retry soon. One that never did backs off further.
                if (acked)
                {
                    _backoff.Reset();
                    failuresInARow = 0;
                    reachedOnce = true;
                    warned = false;
                }
                failuresInARow++;
                var delay = _backoff.Next();
                // The first failure is worth a warning; a dead peer's every retry is not. A peer that stops or is
                // unreachable is an expected failure: its reason is enough, its stack trace only hides that. A peer
                // not up yet while the cluster starts is no failure at all, until the grace runs out.
                bool starting = !reachedOnce && Stopwatch.GetElapsedTime(firstAttempt) < _options.FirstContactGrace;
                if (failure is PeerGoingAwayException || IsGracefulClose(failure))
                {
                    PeerLog.PeerStopping(_logger, _nodeId, (long)delay.TotalMilliseconds);
                    // While it is down its address refuses us: that is expected for a while, as at a cluster's start.
                    (reachedOnce, noticed, firstAttempt) = (false, true, Stopwatch.GetTimestamp());
                }
                else if (starting && !noticed && IsNotListening(failure))
                {
                    noticed = true;
                    PeerLog.PeerNotUpYet(_logger, _nodeId, _options.FirstContactGrace.TotalSeconds, Reason(failure));
                }
                else if (!warned && (!starting || !IsNotListening(failure)))
                {
                    warned = true;
                    if (IsTransportFailure(failure)) PeerLog.StreamFailedBecause(_logger, _nodeId, (long)delay.TotalMilliseconds, Reason(failure));
                    else PeerLog.StreamFailed(_logger, _nodeId, (long)delay.TotalMilliseconds, failure);
                }
                else PeerLog.StreamStillFailing(_logger, _nodeId, failuresInARow, (long)delay.TotalMilliseconds, Reason(failure));
                await WaitBeforeRetryAsync(delay, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposal.
        }
    }

    // The peer's server closed the connection with HTTP/2's NO_ERROR (a graceful shutdown's GOAWAY), or cancelled the
    // call (our own cancellations never get here): it is stopping, and that overtook its going_away acknowledgement.
    private static bool IsGracefulClose(Exception e)
    {
        if (e is Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled }) return true;
        var pending = new Stack<Exception>([e]);
        for (int seen = 0; pending.Count > 0 && seen < 16; seen++)
        {
            var x = pending.Pop();
            if (x is HttpProtocolException { ErrorCode: 0 }) return true;
            if (x is Grpc.Core.RpcException { Status.DebugException: { } debug }) pending.Push(debug);
            if (x.InnerException is { } inner) pending.Push(inner);
        }
        return false;
    }

    // Nothing answers at the address (yet): not an address that answers as another node, or refuses the stream.
    private static bool IsNotListening(Exception e) =>
        e is Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded } or HttpRequestException
        || (e is IOException && e is not PeerGoingAwayException);

    private static bool IsTransportFailure(Exception e) =>
        e is Grpc.Core.RpcException or IOException or HttpRequestException or OperationCanceledException;

    // An RpcException's message repeats its debug exception's whole stack; its status says what happened.
    private static string Reason(Exception e) =>
        e is Grpc.Core.RpcException rpc ? $"{rpc.StatusCode}{(rpc.Status.Detail.Length > 0 ? ": " + rpc.Status.Detail : "")}" : e.Message;

    private Uri? ResolveEndpoint()
    {
        try
        {
            return _resolveEndpoint(_nodeId);
        }
        catch (Exception e)
        {
            // The address book is the host's; its failure must not end this loop.
            PeerLog.ResolveFailed(_logger, _nodeId, e);
            return null;
        }
    }

    private GrpcChannel ChannelFor(Uri endpoint)
    {
        if (_channel is not null && _channelEndpoint == endpoint) return _channel;
        _channel?.Dispose();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            KeepAlivePingDelay = _options.KeepAlivePingDelay,
            KeepAlivePingTimeout = _options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            // One stream per peer needs one connection.
            EnableMultipleHttp2Connections = false,
        };
        _channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // The channel's own reconnect schedule stays within ours, so it never makes a live peer wait longer.
            InitialReconnectBackoff = _options.ReconnectDelayMin,
            MaxReconnectBackoff = _options.ReconnectDelayMax,
        });
        _channelEndpoint = endpoint;
        return _channel;
    }

    /// <summary>Stops the loop and closes the stream; messages still queued are discarded.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _channel?.Dispose();
        _stop.Dispose();
    }

    private readonly record struct Outbound(ulong GroupId, Kv.Paxos.PaxosMessage Message, IReadOnlyList<Telemetry.TracedSlot>? Traces);
}
