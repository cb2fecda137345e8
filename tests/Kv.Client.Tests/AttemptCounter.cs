using System.Collections.Concurrent;

namespace Kv.Client.Tests;

/// <summary>
/// Counts the HTTP/2 requests (= gRPC attempts) the client sends, per endpoint and per method, under its channels;
/// optionally drops the response of the first call to one method after the server has answered it. The total and
/// the per-endpoint counts are of the data API (<c>kv.v1.Kv</c>) only, not of the client's background range-map
/// lookups (<c>kv.v1.Admin/ListRanges</c>, counted per method); <see cref="AllAt"/> counts every method.
/// <para>
/// With the default socket handler inside, the gRPC channel connects through its own connection balancer, so a
/// refused connection fails before this handler sees the request; with <see cref="WithoutConnectionBalancer"/>
/// every attempt, a refused one too, passes here.
/// </para>
/// </summary>
internal sealed class AttemptCounter
{
    private readonly ConcurrentDictionary<string, int> _byEndpoint = new();
    private readonly ConcurrentDictionary<string, int> _byMethod = new();
    private readonly ConcurrentDictionary<string, int> _allByEndpoint = new();
    private int _total;
    private int _dropped;

    /// <summary>A gRPC method path (e.g. <c>/kv.v1.Kv/Put</c>) whose first successful response is lost.</summary>
    public string? DropFirstResponseOf { get; init; }

    /// <summary>Called with each request's method path before it is sent (e.g. to cancel a token mid-call).</summary>
    public Action<string>? OnRequest { get; init; }

    /// <summary>Sends through a handler the gRPC channel does not balance connections for (see above).</summary>
    public bool WithoutConnectionBalancer { get; init; }

    /// <summary>The body (a gRPC frame) of the response that was dropped, if one was.</summary>
    public byte[]? DroppedBody { get; private set; }

    public int Total => Volatile.Read(ref _total);

    public int Dropped => Volatile.Read(ref _dropped);

    public int At(string endpoint) => _byEndpoint.GetValueOrDefault(endpoint.TrimEnd('/'));

    public int Of(string method) => _byMethod.GetValueOrDefault(method);

    /// <summary>Requests of every method sent to <paramref name="endpoint"/> (refused ones only <see cref="WithoutConnectionBalancer"/>).</summary>
    public int AllAt(string endpoint) => _allByEndpoint.GetValueOrDefault(endpoint.TrimEnd('/'));

    public HttpMessageHandler Handler(Uri endpoint) => new Counting(this, endpoint.GetLeftPart(UriPartial.Authority))
    {
        InnerHandler = WithoutConnectionBalancer ? new HttpClientHandler() : new SocketsHttpHandler(),
    };

    /// <summary>The message of the dropped response, parsed with <paramref name="parser"/>.</summary>
    public T DroppedMessage<T>(Google.Protobuf.MessageParser<T> parser) where T : Google.Protobuf.IMessage<T> =>
        parser.ParseFrom(DroppedBody.AsSpan(5));

    private sealed class Counting(AttemptCounter owner, string endpoint) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string method = request.RequestUri!.AbsolutePath;
            if (method.StartsWith("/kv.v1.Kv/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref owner._total);
                owner._byEndpoint.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
            }
            owner._byMethod.AddOrUpdate(method, 1, (_, n) => n + 1);
            owner._allByEndpoint.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
            owner.OnRequest?.Invoke(method);
            var response = await base.SendAsync(request, cancellationToken);
            if (method == owner.DropFirstResponseOf && response.Headers.TryGetValues("grpc-status", out _) is false)
            {
                // A full answer (the server applied the write and replied); drop it once.
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                bool ok = response.TrailingHeaders.TryGetValues("grpc-status", out var status) && status.Single() == "0" && body.Length > 0;
                if (ok && Interlocked.CompareExchange(ref owner._dropped, 1, 0) == 0)
                {
                    owner.DroppedBody = body;
                    response.Dispose();
                    throw new HttpRequestException("simulated lost response", new IOException("connection reset after the server answered"));
                }
                var replay = new HttpResponseMessage(response.StatusCode) { Version = response.Version, Content = new ByteArrayContent(body) };
                foreach (var h in response.Headers) replay.Headers.TryAddWithoutValidation(h.Key, h.Value);
                foreach (var h in response.Content.Headers) replay.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
                foreach (var h in response.TrailingHeaders) replay.TrailingHeaders.TryAddWithoutValidation(h.Key, h.Value);
                response.Dispose();
                return replay;
            }
            return response;
        }
    }
}
