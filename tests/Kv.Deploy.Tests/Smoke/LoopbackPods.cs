using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Kv.Deploy.Tests.Docker;
using Kv.Deploy.Tests.Manifests;
using Kv.Server.Tests.Process;

namespace Kv.Deploy.Tests.Smoke;

/// <summary>
/// Pods of the StatefulSet as real server processes on 127.0.0.1: each gets its pod's environment from the manifests
/// (over the image's ENV), with only the addresses moved: the pod names under the headless Service and the wildcard
/// listen addresses become 127.0.0.1 on free ports (one pair per pod), the data directory a temporary one. Every
/// other variable is exactly the manifests'. Disposing kills every process still running, by PID.
/// </summary>
internal sealed partial class LoopbackPods : IDisposable
{
    private readonly string _yaml;
    private readonly DockerfileFacts _image;
    private readonly string _serverDll;
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "kv-loopback-pods-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<int, (int Grpc, int Metrics)> _ports;
    private readonly Dictionary<int, NodeProcess> _pods = [];

    public LoopbackPods(string yaml, DockerfileFacts image, string serverDll, int podsMax)
    {
        _yaml = yaml;
        _image = image;
        _serverDll = serverDll;
        var free = FreePorts(2 * podsMax);
        _ports = Enumerable.Range(0, podsMax).ToDictionary(i => i, i => (free[2 * i], free[2 * i + 1]));
    }

    /// <summary>Pod kv-<paramref name="ordinal"/>'s gRPC endpoint on loopback.</summary>
    public string Endpoint(int ordinal) => $"http://127.0.0.1:{_ports[ordinal].Grpc}";

    public NodeProcess Pod(int ordinal) => _pods[ordinal];

    /// <summary>Pod kv-<paramref name="ordinal"/>'s environment: the manifests', its addresses moved to loopback.</summary>
    public async Task<Dictionary<string, string>> EnvironmentAsync(int ordinal)
    {
        var environment = await PodSettings.EnvironmentAsync(_yaml, _image, $"kv-{ordinal}");
        foreach (string name in environment.Keys.ToList())
        {
            string value = PodUrl().Replace(environment[name], m => Endpoint(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
            value = value.Replace("http://0.0.0.0:7100", Endpoint(ordinal), StringComparison.Ordinal)
                .Replace("http://0.0.0.0:7180", $"http://127.0.0.1:{_ports[ordinal].Metrics}", StringComparison.Ordinal);
            if (name == "KV_DATA_DIR") value = Path.Combine(_dataRoot, $"kv-{ordinal}");
            environment[name] = value;
        }
        // Anything left pointing into a cluster would mean the manifests use an address this mapping does not know.
        Assert.DoesNotContain(environment, v => v.Value.Contains(".svc", StringComparison.Ordinal) || v.Value.Contains("0.0.0.0", StringComparison.Ordinal));
        return environment;
    }

    /// <summary>Starts pod kv-<paramref name="ordinal"/> (node ordinal+1) as `dotnet Kv.Server.dll node` with only its environment as settings.</summary>
    public async Task<NodeProcess> StartAsync(int ordinal)
    {
        var environment = (await EnvironmentAsync(ordinal)).ToDictionary(e => e.Key, e => (string?)e.Value);
        // Settings inherited from whoever runs the tests must not leak in.
        foreach (string inherited in Environment.GetEnvironmentVariables().Keys.Cast<string>())
            if (inherited.StartsWith("KV_", StringComparison.Ordinal) && !environment.ContainsKey(inherited)) environment[inherited] = null;
        var pod = NodeProcess.Start(ordinal + 1, [], environment, _serverDll);
        _pods[ordinal] = pod;
        return pod;
    }

    public string Logs()
    {
        var text = new StringBuilder();
        foreach ((int ordinal, NodeProcess pod) in _pods)
            text.Append(CultureInfo.InvariantCulture, $"---- kv-{ordinal} (pid {pod.Pid}{(pod.HasExited ? ", exited" : "")}) ----\n{pod.LogTail(40)}\n");
        return text.ToString();
    }

    public void Dispose()
    {
        foreach (NodeProcess pod in _pods.Values) pod.Dispose();
        try
        {
            Directory.Delete(_dataRoot, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    private static List<int> FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    /// <summary>A pod's URL under the headless Service: http://kv-N.kv-peers.NAMESPACE.svc:7100.</summary>
    [GeneratedRegex(@"http://kv-(\d+)\.kv-peers\.[a-z0-9-]+\.svc:7100")]
    private static partial Regex PodUrl();
}
