using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Net.Client;
using Kv.Server.Tests.Process;

namespace Kv.Client.Tests.Process;

/// <summary>
/// Three `Kv.Server node` processes on free 127.0.0.1 ports, each with its own temporary data directory, all
/// listing all three as peers, with fast failover (10 ms ticks, 300 ms election timeout). Nodes can be SIGKILLed.
/// Disposing kills every process still running (by PID) and deletes the data. A minimal copy of
/// tests/Kv.Server.Tests/Process/ClusterProcesses.cs.
/// </summary>
internal sealed class ServerProcesses : IDisposable
{
    private static readonly string[] FastFailoverFlags =
        ["--tick-interval-ms", "10", "--election-timeout-ticks", "30", "--heartbeat-interval-ticks", "5"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-client-processes-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<int, int> _ports;
    private readonly Dictionary<int, NodeProcess> _nodes = [];
    private readonly Lock _lock = new();

    private ServerProcesses(Dictionary<int, int> ports) => _ports = ports;

    public static IReadOnlyList<int> NodeIds { get; } = [1, 2, 3];

    /// <summary>Every node's client endpoint, node 1 first.</summary>
    public IReadOnlyList<string> Endpoints => NodeIds.Select(Endpoint).ToList();

    /// <summary>Starts the three nodes and waits until each prints that it serves.</summary>
    public static async Task<ServerProcesses> StartAsync(TimeSpan within)
    {
        var ports = FreePorts(NodeIds.Count);
        var cluster = new ServerProcesses(NodeIds.Zip(ports).ToDictionary(p => p.First, p => p.Second));
        try
        {
            foreach (int id in NodeIds) cluster.StartNode(id);
            await Task.WhenAll(NodeIds.Select(id => cluster.Node(id).WaitUntilServingAsync(within)));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public string Endpoint(int id) => $"http://127.0.0.1:{_ports[id]}";

    /// <summary>The node id listening on <paramref name="endpoint"/>.</summary>
    public int NodeOf(string endpoint) => NodeIds.Single(id => Endpoint(id) == endpoint.TrimEnd('/'));

    public NodeProcess Node(int id)
    {
        lock (_lock) return _nodes[id];
    }

    /// <summary>A raw admin client of node <paramref name="id"/> (dispose the channel).</summary>
    public (GrpcChannel Channel, Kv.Proto.V1.Admin.AdminClient Admin) Admin(int id)
    {
        var channel = GrpcChannel.ForAddress(Endpoint(id));
        return (channel, new Kv.Proto.V1.Admin.AdminClient(channel));
    }

    /// <summary>SIGKILLs the node and waits for it to exit.</summary>
    public Task KillAsync(int id) => Node(id).KillAsync();

    /// <summary>Every node's recent output, for a failure message.</summary>
    public string Logs(int linesPerNode = 40)
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var n in _nodes.Values)
                text.Append(CultureInfo.InvariantCulture, $"---- node {n.NodeId} (pid {n.Pid}{(n.HasExited ? ", exited" : "")}) ----\n{n.LogTail(linesPerNode)}\n");
        }
        return text.ToString();
    }

    private void StartNode(int id)
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
        var node = NodeProcess.Start(id, flags);
        lock (_lock) _nodes[id] = node;
    }

    /// <summary>Ports nobody listens on (bound to port 0 together, then released).</summary>
    public static List<int> FreePorts(int count)
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
            foreach (var node in _nodes.Values) node.Dispose();
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
