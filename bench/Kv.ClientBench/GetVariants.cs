using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Client;
using Kv.Proto.V1;
using Microsoft.Extensions.Logging;

namespace Kv.ClientBench;

/// <summary>The ways one Get is sent; the first two are what the target compares.</summary>
internal enum Variant
{
    /// <summary>
    /// <c>KvClient.GetAsync(ReadOnlyMemory&lt;byte&gt;)</c> with default <see cref="KvClientOptions"/>, seeded followers
    /// first: its first Get is redirected (NotLeader), so it caches the range's leader and sends every later Get there.
    /// </summary>
    Sdk,

    /// <summary>
    /// As <see cref="Sdk"/> on a second client seeded leader first: its first Gets reach the leader without a redirect;
    /// it caches the leader once its range map places the key.
    /// </summary>
    SdkLeaderFirst,

    /// <summary>The generated stub, <c>GetAsync(new GetRequest { Key = ByteString.CopyFrom(key) })</c>: no deadline, no token.</summary>
    Raw,

    /// <summary>As <see cref="Raw"/>, with what the SDK adds to each attempt: a deadline (now + 5 s) and a cancellable token.</summary>
    RawDeadline,

    /// <summary>
    /// As <see cref="Raw"/>, with what the SDK's attempts pass now when the caller gives no token: a cancellable token
    /// shared by every call (the SDK's shared deadline token, cancelled once per slot), no gRPC deadline.
    /// </summary>
    RawSharedToken,

    /// <summary>Allocations only: as <see cref="Raw"/> on <c>GrpcChannel.ForAddress(leader)</c> with no options at all.</summary>
    RawDefaultChannel,

    /// <summary>
    /// As <see cref="Raw"/> on a channel given an <see cref="HttpClient"/> over the same handler settings
    /// (<c>GrpcChannelOptions.HttpClient</c>: no client-side load-balancing layer in the channel), as the SDK's channels are.
    /// </summary>
    RawHttpClient,
}

/// <summary>
/// The SDK client and the raw stub, each over its own HTTP/2 connection to the same leader, and the measured
/// loops. A loop allocates nothing of its own per Get (timestamps into a preallocated array), so that its allocation
/// figure is the call's.
/// </summary>
internal sealed class GetVariants : IAsyncDisposable
{
    /// <summary>The SDK's per-attempt timeout by default (<see cref="KvClientOptions.PerCallTimeout"/>).</summary>
    private static readonly TimeSpan PerCallTimeout = new KvClientOptions().PerCallTimeout;

    private readonly KvClient _sdk;
    private readonly KvClient _sdkLeaderFirst;
    private readonly GrpcChannel _rawChannel;
    private readonly Proto.V1.Kv.KvClient _raw;
    private readonly CancellationTokenSource _rawToken = new();
    private readonly GrpcChannel _defaultChannel;
    private readonly Proto.V1.Kv.KvClient _rawDefault;
    private readonly GrpcChannel _httpClientChannel;
    private readonly Proto.V1.Kv.KvClient _rawHttpClient;
    private readonly CancellationTokenSource _sharedToken = new();
    private readonly byte[] _key;
    private readonly int _valueBytes;

    public GetVariants(IReadOnlyList<string> endpoints, string leader, byte[] key, int valueBytes)
    {
        _key = key;
        _valueBytes = valueBytes;
        var followers = endpoints.Where(e => !string.Equals(EndpointKey(e), EndpointKey(leader), StringComparison.Ordinal)).ToArray();
        if (followers.Length == endpoints.Count) throw new ArgumentException($"the leader {leader} is not one of the endpoints", nameof(leader));
        _sdk = new KvClient([.. followers, leader], new KvClientOptions { Logger = SdkEvents });
        _sdkLeaderFirst = new KvClient([leader, .. followers], new KvClientOptions { Logger = SdkLeaderFirstEvents });
        _rawChannel = CreateChannelAsTheSdkDoes(new Uri(leader));
        _raw = new Proto.V1.Kv.KvClient(_rawChannel);
        _defaultChannel = GrpcChannel.ForAddress(leader);
        _rawDefault = new Proto.V1.Kv.KvClient(_defaultChannel);
        _httpClientChannel = GrpcChannel.ForAddress(leader, new GrpcChannelOptions
        {
            HttpClient = new HttpClient(SdkHandler()) { Timeout = Timeout.InfiniteTimeSpan },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = new KvClientOptions().ReceiveMessageBytesMax,
            ThrowOperationCanceledOnCancellation = true,
        });
        _rawHttpClient = new Proto.V1.Kv.KvClient(_httpClientChannel);
    }

    /// <summary>What the SDK logged (retries, leaders learned, range map loads); nothing on a Get that succeeds first time.</summary>
    public CountingLogger SdkEvents { get; } = new();

    /// <summary>What the leader-first client logged.</summary>
    public CountingLogger SdkLeaderFirstEvents { get; } = new();

    /// <summary>The leader the SDK client (followers first) caches now.</summary>
    public string? SdkLeader => _sdk.CachedLeaderEndpoint;

    /// <summary>The leader the leader-first SDK client caches now.</summary>
    public string? SdkLeaderFirstLeader => _sdkLeaderFirst.CachedLeaderEndpoint;

    private static string EndpointKey(string endpoint) => new Uri(endpoint).GetLeftPart(UriPartial.Authority);

    /// <summary>
    /// The channel settings of <c>Kv.Client.EndpointRouter</c> (internal there), copied: a <see cref="SocketsHttpHandler"/>
    /// with multiple HTTP/2 connections, connect timeout = the default per-call timeout, no idle timeout, keep-alive
    /// pings every 30 s; 16 MiB receive limit; cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    private static GrpcChannel CreateChannelAsTheSdkDoes(Uri uri) =>
        GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = SdkHandler(),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = new KvClientOptions().ReceiveMessageBytesMax,
            ThrowOperationCanceledOnCancellation = true,
        });

    private static SocketsHttpHandler SdkHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = PerCallTimeout,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>
    /// Runs <paramref name="count"/> sequential Gets of <paramref name="variant"/>, writing each one's latency
    /// (Stopwatch ticks) to <paramref name="latencies"/> from <paramref name="offset"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A Get did not return the value.</exception>
    public async Task RunAsync(Variant variant, long[] latencies, int offset, int count)
    {
        switch (variant)
        {
            case Variant.Sdk or Variant.SdkLeaderFirst:
                var sdk = variant == Variant.Sdk ? _sdk : _sdkLeaderFirst;
                for (int i = 0; i < count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var entry = await sdk.GetAsync(_key).ConfigureAwait(false);
                    latencies[offset + i] = Stopwatch.GetTimestamp() - start;
                    Check(entry?.Value.Length);
                }
                break;
            case Variant.Raw:
                for (int i = 0; i < count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var response = await _raw.GetAsync(new GetRequest { Key = ByteString.CopyFrom(_key) }).ConfigureAwait(false);
                    latencies[offset + i] = Stopwatch.GetTimestamp() - start;
                    Check(response.Found ? response.Value.Length : null);
                }
                break;
            case Variant.RawDeadline:
                for (int i = 0; i < count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var options = new CallOptions(deadline: DateTime.UtcNow + PerCallTimeout, cancellationToken: _rawToken.Token);
                    var response = await _raw.GetAsync(new GetRequest { Key = ByteString.CopyFrom(_key) }, options).ConfigureAwait(false);
                    latencies[offset + i] = Stopwatch.GetTimestamp() - start;
                    Check(response.Found ? response.Value.Length : null);
                }
                break;
            case Variant.RawSharedToken:
                for (int i = 0; i < count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var response = await _raw.GetAsync(new GetRequest { Key = ByteString.CopyFrom(_key) }, new CallOptions(cancellationToken: _sharedToken.Token)).ConfigureAwait(false);
                    latencies[offset + i] = Stopwatch.GetTimestamp() - start;
                    Check(response.Found ? response.Value.Length : null);
                }
                break;
            case Variant.RawDefaultChannel or Variant.RawHttpClient:
                var stub = variant == Variant.RawDefaultChannel ? _rawDefault : _rawHttpClient;
                for (int i = 0; i < count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    var response = await stub.GetAsync(new GetRequest { Key = ByteString.CopyFrom(_key) }).ConfigureAwait(false);
                    latencies[offset + i] = Stopwatch.GetTimestamp() - start;
                    Check(response.Found ? response.Value.Length : null);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, null);
        }
    }

    private void Check(int? length)
    {
        if (length != _valueBytes)
            throw new InvalidOperationException($"a Get returned {(length is { } n ? $"{n} bytes" : "no value")}, not {_valueBytes} bytes");
    }

    public async ValueTask DisposeAsync()
    {
        await _sdk.DisposeAsync().ConfigureAwait(false);
        await _sdkLeaderFirst.DisposeAsync().ConfigureAwait(false);
        _rawChannel.Dispose();
        _defaultChannel.Dispose();
        _httpClientChannel.Dispose();
        _rawToken.Dispose();
        _sharedToken.Dispose();
    }
}

/// <summary>Counts the SDK's log events by name (the SDK logs only off the happy path: retries and routing changes).</summary>
internal sealed class CountingLogger : ILogger
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Events so far, by event name.</summary>
    public IReadOnlyDictionary<string, int> Snapshot()
    {
        lock (_counts) return new Dictionary<string, int>(_counts, StringComparer.Ordinal);
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    /// <summary>The first few messages, formatted.</summary>
    public IReadOnlyList<string> FirstMessages()
    {
        lock (_counts) return _first.ToArray();
    }

    private readonly List<string> _first = [];

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string name = eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        lock (_counts)
        {
            _counts[name] = _counts.GetValueOrDefault(name) + 1;
            if (_first.Count < 5) _first.Add(formatter(state, exception));
        }
    }
}
