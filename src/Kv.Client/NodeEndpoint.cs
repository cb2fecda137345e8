using Grpc.Core;
using Grpc.Net.Client;
using Stub = global::Kv.Proto.V1.Kv.KvClient;
using TxnStub = global::Kv.Proto.V1.Transactions.TransactionsClient;

namespace Kv.Client;

/// <summary>
/// One node as the client knows it: its normalized address, its circuit breaker, and its <see cref="GrpcChannel"/>
/// with the stubs over it, created on first use and reused by every call. Routing hands these out, so that an
/// attempt reaches its stub and its breaker without looking the address up again.
/// </summary>
internal sealed class NodeEndpoint(string address, KvClientOptions options) : IDisposable
{
    private Connection? _connection;
    private bool _disposed;

    /// <summary><c>scheme://host:port</c>.</summary>
    public string Address { get; } = address;

    public EndpointBreaker Breaker { get; } = new(options);

    public Stub Stub => Connect().Stub;

    public TxnStub TxnStub => Connect().TxnStub;

    public GrpcChannel Channel => Connect().Channel;

    /// <summary>Gets, puts and deletes to this node, bundled under load (null when <see cref="KvClientOptions.BundleCallsInFlight"/> is 0).</summary>
    public RequestBundler? Bundler => Connect().Bundler;

    /// <summary>
    /// Tells the breaker how an attempt here ended: <paramref name="failure"/> null when it answered, else its error.
    /// An error status is an answer too (the node is up); only connection-level failures count against the node.
    /// </summary>
    public void Report(RpcException? failure)
    {
        if (failure is not null && EndpointRouter.IsConnectionFailure(failure)) Breaker.Failed();
        else Breaker.Answered();
    }

    public override string ToString() => Address;

    private Connection Connect()
    {
        if (Volatile.Read(ref _connection) is { } existing) return existing;
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        var created = new Connection(new Uri(Address), options);
        if (Interlocked.CompareExchange(ref _connection, created, null) is { } raced)
        {
            created.Channel.Dispose(); // another caller connected first
            return raced;
        }
        return created;
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        Interlocked.Exchange(ref _connection, null)?.Channel.Dispose();
    }

    private sealed class Connection
    {
        public Connection(Uri uri, KvClientOptions options)
        {
            var handler = options.HttpHandlerFactory?.Invoke(uri) ?? new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = options.ConnectTimeout < options.PerCallTimeout ? options.ConnectTimeout : options.PerCallTimeout,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            };
            Channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions
            {
                // An HttpClient rather than the handler: the channel then has no client-side load-balancing layer,
                // which a channel to one node does not use and which cost 192 B per call (bench/results/client-overhead.md).
                // Timeouts are the client's own (per attempt), not HttpClient's 100 s default.
                HttpClient = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan },
                DisposeHttpClient = true,
                MaxReceiveMessageSize = options.ReceiveMessageBytesMax,
                ThrowOperationCanceledOnCancellation = true,
            });
            Stub = new Stub(Channel);
            TxnStub = new TxnStub(Channel);
            if (options.BundleCallsInFlight > 0) Bundler = new RequestBundler(Stub, options);
        }

        public GrpcChannel Channel { get; }

        public Stub Stub { get; }

        public TxnStub TxnStub { get; }

        public RequestBundler? Bundler { get; }
    }
}
