using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Server.Configuration;
using Kv.Server.Node;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Node;

/// <summary>
/// Three <see cref="KvNode"/>s in this process on free 127.0.0.1 ports, data in a temp folder (deleted at the
/// end), with raw gRPC clients that try every node in turn until one serves (a test-side stand-in for the SDK's
/// routing, so that these tests depend on the server alone).
/// </summary>
internal sealed class InProcessCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-cluster-" + Guid.NewGuid().ToString("N"));
    private readonly List<PeerEndpoint> _peers;
    private readonly KvNode?[] _nodes = new KvNode?[3];
    private readonly Dictionary<int, GrpcChannel> _channels = [];
    private readonly Func<NodeOptions, NodeOptions> _configure;
    private readonly Func<int, Kv.Txn.Coordination.ITxnFailPoints?> _failPoints;

    private InProcessCluster(Func<NodeOptions, NodeOptions> configure, Func<int, Kv.Txn.Coordination.ITxnFailPoints?>? failPoints)
    {
        _configure = configure;
        _failPoints = failPoints ?? (_ => null);
        var ports = FreePorts(3);
        _peers = Enumerable.Range(1, 3).Select(i => new PeerEndpoint(i, new Uri($"http://127.0.0.1:{ports[i - 1]}"))).ToList();
    }

    public KvNode Node(int id) => _nodes[id - 1] ?? throw new InvalidOperationException($"node {id} is stopped");

    public static async Task<InProcessCluster> StartAsync(Func<NodeOptions, NodeOptions>? configure = null,
        Func<int, Kv.Txn.Coordination.ITxnFailPoints?>? failPoints = null)
    {
        var cluster = new InProcessCluster(configure ?? (o => o), failPoints);
        try
        {
            foreach (var p in cluster._peers) await cluster.StartNodeAsync(p.NodeId);
            await cluster.PutAsync("\u0001probe", "ok");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task StartNodeAsync(int id, Action<Microsoft.Extensions.Logging.ILoggingBuilder>? logging = null,
        Kv.Txn.Coordination.ITxnFailPoints? failPoints = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var peer = _peers[id - 1];
        _nodes[id - 1] = await KvNode.StartAsync(_configure(new NodeOptions
        {
            NodeId = id,
            Listen = peer.Url,
            Peers = _peers,
            DataDirectory = Path.Combine(_root, $"node-{id}"),
            ElectionTimeoutTicks = 30,
            HeartbeatIntervalTicks = 5,
        }), logging, failPoints ?? _failPoints(id), cts.Token);
    }

    /// <summary>The endpoint of node <paramref name="id"/> (1..3).</summary>
    public Uri Endpoint(int id) => _peers[id - 1].Url;

    /// <summary>
    /// Starts a node that is not an initial member: id <paramref name="id"/>, a free port, its own data directory,
    /// joining through <paramref name="join"/>. The caller disposes it.
    /// </summary>
    public async Task<KvNode> StartJoinerAsync(int id, IReadOnlyList<Uri> join, string? dataDirectory = null, int? port = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await KvNode.StartAsync(_configure(new NodeOptions
        {
            NodeId = id,
            Listen = new Uri($"http://127.0.0.1:{port ?? FreePorts(1)[0]}"),
            Join = join,
            DataDirectory = dataDirectory ?? Path.Combine(_root, $"node-{id}"),
            ElectionTimeoutTicks = 30,
            HeartbeatIntervalTicks = 5,
        }), logging: null, cts.Token);
    }

    public async Task StopNodeAsync(int id, bool crash = false)
    {
        var node = _nodes[id - 1];
        _nodes[id - 1] = null;
        if (node is not null)
        {
            if (crash) await node.CrashAsync();
            else await node.DisposeAsync();
        }
        if (_channels.Remove(id, out var channel)) channel.Dispose();
    }

    public GrpcChannel Channel(int id)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(id, out var c)) _channels[id] = c = GrpcChannel.ForAddress(_peers[id - 1].Url);
            return c;
        }
    }

    public Wire.Admin.AdminClient Admin(int id) => new(Channel(id));

    public Wire.Kv.KvClient Kv(int id) => new(Channel(id));

    public Wire.Transactions.TransactionsClient Txn(int id) => new(Channel(id));

    /// <summary>Whether node <paramref name="id"/> is running.</summary>
    public bool IsRunning(int id) => _nodes[id - 1] is not null;

    /// <summary>Runs <paramref name="call"/> at each running node in turn until one answers, for up to 20 s.</summary>
    public async Task<T> AnyNodeAsync<T>(Func<Wire.Kv.KvClient, Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (int id in Enumerable.Range(1, 3).Where(i => _nodes[i - 1] is not null))
            {
                try
                {
                    return await call(Kv(id));
                }
                catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                }
            }
            await Task.Delay(20);
        }
    }

    public Task<Wire.PutResponse> PutAsync(string key, string value, Wire.WriteId? writeId = null) =>
        AnyNodeAsync(c => c.PutAsync(new Wire.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), WriteId = writeId },
            deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);

    public Task<Wire.GetResponse> GetAsync(string key) =>
        AnyNodeAsync(c => c.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);

    /// <summary>Scans [start, end) page by page, following resume keys across ranges.</summary>
    public async Task<List<Wire.KeyValue>> ScanAllAsync(string start, string? end, bool reverse = false, uint limit = 7)
    {
        var all = new List<Wire.KeyValue>();
        var request = new Wire.ScanRequest
        {
            StartKey = ByteString.CopyFromUtf8(start),
            EndKey = end is null ? ByteString.Empty : ByteString.CopyFromUtf8(end),
            Reverse = reverse,
            Limit = limit,
        };
        while (true)
        {
            var page = await AnyNodeAsync(c => c.ScanAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
            all.AddRange(page.Entries);
            if (page.ResumeKey.IsEmpty) return all;
            request = request.Clone();
            if (reverse) request.EndKey = page.ResumeKey;
            else request.StartKey = page.ResumeKey;
        }
    }

    internal static List<int> FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _channels.Values) c.Dispose();
        _channels.Clear();
        foreach (var n in _nodes) if (n is not null) await n.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
