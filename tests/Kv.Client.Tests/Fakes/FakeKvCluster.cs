using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Any = Google.Protobuf.WellKnownTypes.Any;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.Client.Tests.Fakes;

/// <summary>
/// An in-memory model of a Kv cluster behind the client's HTTP handler (<see cref="KvClientOptions.HttpHandlerFactory"/>):
/// no server, no sockets, deterministic. It serves Get, Put, Batch and Admin.ListRanges as docs/api.md describes
/// them: a node that does not lead the key's range answers NotLeader (with the leader's endpoint when
/// <see cref="LeaderHints"/>); a put's write id is remembered per range and client (a retry gets the first answer, an
/// older sequence is refused); a batch applies its operations one by one and stops at the first failure with the
/// message prefix <c>operations[i] failed</c>. Endpoints in <see cref="Dead"/> refuse connections. Every request
/// is counted per endpoint before it is served.
/// </summary>
internal sealed class FakeKvCluster
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (ByteString Value, Timestamp Version)> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<(ulong Range, ulong Client), (ulong Sequence, PutResponse Answer)> _sessions = [];
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _applied = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Endpoint, int Operations)> _batches = new();
    private readonly ConcurrentQueue<(string Endpoint, int Operations)> _bundles = new();
    private readonly ConcurrentDictionary<string, int> _methodAttempts = new(StringComparer.Ordinal);
    private long _clock;

    /// <param name="endpoints">The nodes, e.g. <c>http://a.fake:1</c>.</param>
    public FakeKvCluster(params string[] endpoints)
    {
        Endpoints = endpoints;
        Ranges = [Range(1, "", "")];
        LeaderOf = _ => endpoints[0];
    }

    public IReadOnlyList<string> Endpoints { get; }

    /// <summary>The ranges (Admin.ListRanges answers them); one range over every key by default.</summary>
    public List<RangeDescriptor> Ranges { get; set; }

    /// <summary>The endpoint leading a range now (node 1 by default).</summary>
    public Func<ulong, string> LeaderOf { get; set; }

    /// <summary>Whether NotLeader answers name the leader (false: as during an election).</summary>
    public bool LeaderHints { get; set; } = true;

    /// <summary>
    /// What a node that does not lead a range names as its leader: given the node's endpoint and the range, the
    /// endpoint it names ("" for none). Null: the leader, or none when not <see cref="LeaderHints"/>. During an
    /// election nodes may name a stale leader (one that no longer leads).
    /// </summary>
    public Func<string, ulong, string>? HintAt { get; set; }

    /// <summary>Endpoints that refuse connections.</summary>
    public ConcurrentDictionary<string, bool> Dead { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests of these methods (<c>/kv.v1.Kv/Get</c>) at these endpoints never get an answer: they wait until cancelled, as on a node that hangs.</summary>
    public Func<string, string, bool> Stall { get; set; } = (_, _) => false;

    /// <summary>A put of this key fails with this error (null: it applies).</summary>
    public Func<string, RpcException?> FailPut { get; set; } = _ => null;

    /// <summary>Loses the n-th (1-based) successful answer of a method (<c>/kv.v1.Kv/Batch</c>) after serving it.</summary>
    public Func<string, int, bool> LoseAnswer { get; set; } = (_, _) => false;

    /// <summary>A range over [start, end) replicated on every endpoint.</summary>
    public RangeDescriptor Range(ulong id, string start, string end)
    {
        var d = new RangeDescriptor { RangeId = id, StartKey = ByteString.CopyFromUtf8(start), EndKey = ByteString.CopyFromUtf8(end), Generation = 1 };
        for (int i = 0; i < Endpoints.Count; i++) d.Replicas.Add(new Replica { NodeId = (ulong)i + 1, Endpoint = Endpoints[i] });
        return d;
    }

    /// <summary>Requests that reached <paramref name="endpoint"/> (refused connections included), every method.</summary>
    public int AttemptsAt(string endpoint) => _attempts.GetValueOrDefault(endpoint);

    /// <summary>How many times a put of <paramref name="key"/> was applied (retries answered from the session excluded).</summary>
    public int AppliedCount(string key) => _applied.GetValueOrDefault(key);

    /// <summary>Every Batch RPC served (not refused): where, and how many operations it carried.</summary>
    public IReadOnlyList<(string Endpoint, int Operations)> Batches => _batches.ToArray();

    /// <summary>Every Bundle call served: its node and operation count.</summary>
    public IReadOnlyList<(string Endpoint, int Operations)> Bundles => _bundles.ToArray();

    /// <summary>How many calls of <paramref name="method"/> (e.g. <c>Put</c>) reached any node, answered or not.</summary>
    public int CallsOf(string method) => _methodAttempts.GetValueOrDefault("/kv.v1.Kv/" + method);

    /// <summary>Whether the nodes know the Bundle RPC (false: Unimplemented, as an older node answers).</summary>
    public bool BundleSupported { get; set; } = true;

    /// <summary>Awaited before a node serves a call (endpoint, method path): lets a test hold calls in flight.</summary>
    public Func<string, string, Task> BeforeServe { get; set; } = (_, _) => Task.CompletedTask;

    /// <summary>The handler factory to set as the client's <see cref="KvClientOptions.HttpHandlerFactory"/>.</summary>
    public HttpMessageHandler Handler(Uri endpoint) => new Node(this, endpoint.GetLeftPart(UriPartial.Authority));

    /// <summary>Stores a key directly.</summary>
    public void Seed(string key, string value)
    {
        lock (_gate) _data[key] = (ByteString.CopyFromUtf8(value), new Timestamp { WallNanos = Interlocked.Increment(ref _clock) });
    }

    private RangeDescriptor RangeOf(ByteString key) =>
        Ranges.First(r => r.StartKey.Span.SequenceCompareTo(key.Span) <= 0 && (r.EndKey.IsEmpty || key.Span.SequenceCompareTo(r.EndKey.Span) < 0));

    /// <summary>Throws NotLeader unless <paramref name="endpoint"/> leads the key's range; returns the range.</summary>
    private RangeDescriptor Lead(string endpoint, ByteString key)
    {
        var range = RangeOf(key);
        string leader = LeaderOf(range.RangeId);
        if (leader != endpoint)
            throw Error(StatusCode.FailedPrecondition, $"node {endpoint} does not lead range {range.RangeId}",
                new NotLeader { RangeId = range.RangeId, LeaderEndpoint = HintAt?.Invoke(endpoint, range.RangeId) ?? (LeaderHints ? leader : "") });
        return range;
    }

    private GetResponse Get(string endpoint, GetRequest request)
    {
        if (request.Key.IsEmpty) throw Invalid("key", "empty");
        Lead(endpoint, request.Key);
        lock (_gate)
        {
            return _data.TryGetValue(request.Key.ToStringUtf8(), out var e)
                ? new GetResponse { Found = true, Value = e.Value, Version = e.Version }
                : new GetResponse();
        }
    }

    private PutResponse Put(string endpoint, PutRequest request)
    {
        var range = Lead(endpoint, request.Key);
        if (FailPut(request.Key.ToStringUtf8()) is { } failure) throw failure;
        lock (_gate)
        {
            ulong client = request.WriteId?.ClientId ?? 0, sequence = request.WriteId?.Sequence ?? 0;
            if (client != 0 && _sessions.TryGetValue((range.RangeId, client), out var session))
            {
                if (sequence == session.Sequence) return session.Answer;
                if (sequence < session.Sequence)
                    throw Error(StatusCode.FailedPrecondition, $"write_id (client {client}, sequence {sequence}) is older than a write of this client already applied: it was applied before, but its answer is no longer kept; a new write needs a new sequence.", null);
            }
            var answer = new PutResponse { Version = new Timestamp { WallNanos = Interlocked.Increment(ref _clock) } };
            string key = request.Key.ToStringUtf8();
            _data[key] = (request.Value, answer.Version);
            _applied.AddOrUpdate(key, 1, (_, n) => n + 1);
            if (client != 0) _sessions[(range.RangeId, client)] = (sequence, answer);
            return answer;
        }
    }

    private BatchResponse Batch(string endpoint, BatchRequest request)
    {
        if (request.Operations.Count > 1_000) throw Invalid("operations", $"{request.Operations.Count} operations; at most 1000");
        for (int i = 0; i < request.Operations.Count; i++)
        {
            var op = request.Operations[i];
            if ((op.Get?.Key ?? op.Put?.Key ?? op.Delete?.Key ?? ByteString.Empty).IsEmpty)
                throw Invalid($"operations[{i}].{op.OpCase.ToString().ToLowerInvariant()}.key", "empty");
        }
        var response = new BatchResponse();
        for (int i = 0; i < request.Operations.Count; i++)
        {
            var op = request.Operations[i];
            try
            {
                response.Results.Add(op.OpCase switch
                {
                    BatchOperation.OpOneofCase.Get => new BatchResult { Get = Get(endpoint, op.Get) },
                    BatchOperation.OpOneofCase.Put => new BatchResult { Put = Put(endpoint, op.Put) },
                    _ => throw Error(StatusCode.Unimplemented, "only get and put", null),
                });
            }
            catch (RpcException e)
            {
                var status = e.GetRpcStatus()!;
                status.Message = $"operations[{i}] failed ({i} operation(s) before it were applied, none after): {status.Message}";
                throw status.ToRpcException();
            }
        }
        _batches.Enqueue((endpoint, request.Operations.Count));
        return response;
    }

    private BundleResponse Bundle(string endpoint, BundleRequest request)
    {
        if (!BundleSupported) throw Error(StatusCode.Unimplemented, "unknown method Bundle", null);
        var response = new BundleResponse();
        foreach (var op in request.Operations)
        {
            try
            {
                response.Results.Add(op.OpCase switch
                {
                    BatchOperation.OpOneofCase.Get => new BundleResult { Get = Get(endpoint, op.Get) },
                    BatchOperation.OpOneofCase.Put => new BundleResult { Put = Put(endpoint, op.Put) },
                    _ => throw Error(StatusCode.Unimplemented, "only get and put", null),
                });
            }
            catch (RpcException e)
            {
                var status = e.GetRpcStatus()!;
                response.Results.Add(new BundleResult { Error = new OperationError { Code = status.Code, Message = status.Message, Details = { status.Details } } });
            }
        }
        _bundles.Enqueue((endpoint, request.Operations.Count));
        return response;
    }

    private static RpcException Invalid(string field, string reason) =>
        Error(StatusCode.InvalidArgument, $"{field}: {reason}", new InvalidArgument { Field = field, Reason = reason });

    /// <summary>An error status with an optional detail, as the server builds them.</summary>
    public static RpcException Error(StatusCode code, string message, IMessage? detail)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        if (detail is not null) status.Details.Add(Any.Pack(detail));
        return status.ToRpcException();
    }

    /// <summary>One node's side of the wire: parses the gRPC frame, serves it, and frames the answer (or the status).</summary>
    private sealed class Node(FakeKvCluster cluster, string endpoint) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            cluster._attempts.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
            if (cluster.Dead.ContainsKey(endpoint))
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({endpoint})", new SocketException((int)SocketError.ConnectionRefused));
            string method = request.RequestUri!.AbsolutePath;
            cluster._methodAttempts.AddOrUpdate(method, 1, (_, n) => n + 1);
            if (cluster.Stall(endpoint, method)) await Task.Delay(Timeout.Infinite, cancellationToken);
            await cluster.BeforeServe(endpoint, method).WaitAsync(cancellationToken);
            byte[] body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            var message = body.AsMemory(5, (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1, 4)));
            IMessage answer;
            try
            {
                answer = method switch
                {
                    "/kv.v1.Kv/Get" => cluster.Get(endpoint, GetRequest.Parser.ParseFrom(message.Span)),
                    "/kv.v1.Kv/Put" => cluster.Put(endpoint, PutRequest.Parser.ParseFrom(message.Span)),
                    "/kv.v1.Kv/Batch" => cluster.Batch(endpoint, BatchRequest.Parser.ParseFrom(message.Span)),
                    "/kv.v1.Kv/Bundle" => cluster.Bundle(endpoint, BundleRequest.Parser.ParseFrom(message.Span)),
                    "/kv.v1.Admin/ListRanges" => new ListRangesResponse { Ranges = { cluster.Ranges } },
                    _ => throw Error(StatusCode.Unimplemented, method, null),
                };
            }
            catch (RpcException e)
            {
                return Trailers((int)e.StatusCode, e.Status.Detail, e.Trailers.GetValueBytes("grpc-status-details-bin"));
            }
            if (cluster.LoseAnswer(method, cluster._calls.AddOrUpdate(method, 1, (_, n) => n + 1)))
                throw new HttpRequestException("simulated lost response", new IOException("connection reset after the server answered"));
            return Answer(answer);
        }

        private static HttpResponseMessage Answer(IMessage message)
        {
            byte[] payload = message.ToByteArray();
            byte[] frame = new byte[5 + payload.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)payload.Length);
            payload.CopyTo(frame, 5);
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = new ByteArrayContent(frame) };
            response.Content.Headers.ContentType = new("application/grpc");
            response.TrailingHeaders.Add("grpc-status", "0");
            return response;
        }

        /// <summary>A trailers-only answer: the status in the headers, no body.</summary>
        private static HttpResponseMessage Trailers(int code, string message, byte[]? details)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, Content = new ByteArrayContent([]) };
            response.Content.Headers.ContentType = new("application/grpc");
            response.Headers.Add("grpc-status", code.ToString(System.Globalization.CultureInfo.InvariantCulture));
            response.Headers.Add("grpc-message", Uri.EscapeDataString(message));
            if (details is not null) response.Headers.Add("grpc-status-details-bin", Convert.ToBase64String(details).TrimEnd('='));
            return response;
        }
    }
}

/// <summary>A clock the test moves by hand (for the circuit breakers' break durations).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _utcTicks = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}
