using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;

namespace Kv.Server.Tests.Process;

/// <summary>
/// Three `Kv.Server node` processes, one per node, each on its own free 127.0.0.1 port with its own temporary
/// data directory, all listing all three as peers. Nodes can be killed (SIGKILL), stopped (SIGTERM) and restarted
/// on the same port and data. Disposing kills every process still running (by PID) and deletes the data.
/// </summary>
internal sealed class ClusterProcesses : IDisposable
{
    /// <summary>Fast failover: 10 ms ticks, a 300 ms election timeout, heartbeats every 50 ms.</summary>
    public static readonly IReadOnlyList<string> FastFailoverFlags =
        ["--tick-interval-ms", "10", "--election-timeout-ticks", "30", "--heartbeat-interval-ticks", "5"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-failover-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<int, int> _ports;
    private readonly Dictionary<int, NodeProcess> _nodes = [];
    private readonly List<NodeProcess> _started = [];
    private readonly Dictionary<int, GrpcChannel> _channels = [];
    private readonly Lock _lock = new();

    private readonly IReadOnlyList<string> _extraFlags;
    private readonly Dictionary<int, IReadOnlyList<string>> _nodeFlags = [];

    private ClusterProcesses(Dictionary<int, int> ports, IReadOnlyList<string> extraFlags)
    {
        _ports = ports;
        _extraFlags = extraFlags;
    }

    public static IReadOnlyList<int> NodeIds { get; } = [1, 2, 3];

    /// <summary>
    /// Starts all three nodes and waits until each prints that it serves. <paramref name="extraFlags"/> go to every
    /// node; <paramref name="nodeFlags"/> (by node id) to that node only, after them.
    /// </summary>
    public static async Task<ClusterProcesses> StartAsync(TimeSpan within, IReadOnlyList<string>? extraFlags = null,
        IReadOnlyDictionary<int, IReadOnlyList<string>>? nodeFlags = null)
    {
        var ports = FreePorts(NodeIds.Count);
        var cluster = new ClusterProcesses(NodeIds.Zip(ports).ToDictionary(p => p.First, p => p.Second), extraFlags ?? []);
        try
        {
            foreach (var (id, flags) in nodeFlags ?? new Dictionary<int, IReadOnlyList<string>>()) cluster._nodeFlags[id] = flags;
            foreach (int id in NodeIds) cluster.StartNode(id);
            await Task.WhenAll(NodeIds.Select(id => cluster._nodes[id].WaitUntilServingAsync(within)));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public string Endpoint(int id) => $"http://127.0.0.1:{_ports[id]}";

    public NodeProcess Node(int id)
    {
        lock (_lock) return _nodes[id];
    }

    /// <summary>A client of node <paramref name="id"/> (one channel per node, replaced on restart).</summary>
    public Kv.Proto.V1.Kv.KvClient Client(int id)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(id, out var channel))
                _channels[id] = channel = GrpcChannel.ForAddress(Endpoint(id));
            return new Kv.Proto.V1.Kv.KvClient(channel);
        }
    }

    /// <summary>An admin client of node <paramref name="id"/>.</summary>
    public Kv.Proto.V1.Admin.AdminClient Admin(int id)
    {
        Client(id); // creates the channel
        lock (_lock) return new Kv.Proto.V1.Admin.AdminClient(_channels[id]);
    }

    /// <summary>A transactions client of node <paramref name="id"/>.</summary>
    public Kv.Proto.V1.Transactions.TransactionsClient Transactions(int id)
    {
        Client(id); // creates the channel
        lock (_lock) return new Kv.Proto.V1.Transactions.TransactionsClient(_channels[id]);
    }

    /// <summary>SIGKILLs the node and waits for it to exit.</summary>
    public Task KillAsync(int id) => Node(id).KillAsync();

    /// <summary>SIGTERMs the node; its exit code.</summary>
    public Task<int> StopAsync(int id, TimeSpan within) => Node(id).StopAsync(within);

    /// <summary>Starts the (exited) node again on the same port and data directory, and waits until it serves.</summary>
    public async Task RestartAsync(int id, TimeSpan within)
    {
        if (!Node(id).HasExited) throw new InvalidOperationException($"node {id} is still running");
        var node = StartNode(id);
        await node.WaitUntilServingAsync(within);
    }

    /// <summary>
    /// Like <see cref="RestartAsync(int, TimeSpan)"/>, with <paramref name="nodeFlags"/> in place of the node's own
    /// flags (those given to it alone at start; the flags of every node stay).
    /// </summary>
    public Task RestartAsync(int id, TimeSpan within, IReadOnlyList<string> nodeFlags)
    {
        lock (_lock) _nodeFlags[id] = nodeFlags;
        return RestartAsync(id, within);
    }

    /// <summary>Every node's recent output, for a failure message.</summary>
    public string Logs(int linesPerNode = 60)
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var n in _started)
                text.Append(CultureInfo.InvariantCulture, $"---- node {n.NodeId} (pid {n.Pid}{(n.HasExited ? ", exited" : "")}) ----\n{n.LogTail(linesPerNode)}\n");
        }
        return text.ToString();
    }

    private NodeProcess StartNode(int id)
    {
        string peers = string.Join(",", NodeIds.Select(p => $"{p}={Endpoint(p)}"));
        var flags = new List<string>
        {
            "--node-id", id.ToString(CultureInfo.InvariantCulture),
            "--listen", Endpoint(id),
            "--peers", peers,
            "--data-dir", Path.Combine(_root, $"node-{id}"),
        };
        flags.AddRange(FastFailoverFlags);
        flags.AddRange(_extraFlags);
        lock (_lock)
        {
            if (_nodeFlags.TryGetValue(id, out var own)) flags.AddRange(own);
        }
        var node = NodeProcess.Start(id, flags);
        lock (_lock)
        {
            _nodes[id] = node;
            _started.Add(node);
            if (_channels.Remove(id, out var old)) old.Dispose();
        }
        return node;
    }

    private static List<int> FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var node in _started) node.Dispose();
            foreach (var channel in _channels.Values) channel.Dispose();
            _channels.Clear();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
