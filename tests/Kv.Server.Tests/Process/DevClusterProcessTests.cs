using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Proto.V1;

namespace Kv.Server.Tests.Process;

/// <summary>
/// The README's local-cluster command as a real process: `Kv.Server dev` on free loopback ports with its own
/// data directory, written to and read from over gRPC, stopped with SIGTERM, restarted, and read again.
/// </summary>
public sealed class DevClusterProcessTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "kv-dev-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 120_000)]
    public async Task DevCluster_ServesWrites_StopsOnSigterm_AndKeepsDataAcrossRestarts()
    {
        int basePort = FreeBasePort();
        using (var first = DevProcess.Start(_data, basePort))
        {
            var endpoints = await first.WaitForEndpointsAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3, endpoints.Count);
            await PutAsync(endpoints, "greeting", "hello", TimeSpan.FromSeconds(30));
            Assert.Equal("hello", await GetAsync(endpoints, "greeting", TimeSpan.FromSeconds(30)));
            // A maximum-size value must replicate too: Paxos messages carrying it cross the peer streams.
            string big = new('v', 4 * 1024 * 1024);
            await PutAsync(endpoints, "big", big, TimeSpan.FromSeconds(30), sequence: 2);
            Assert.Equal(big, await GetAsync(endpoints, "big", TimeSpan.FromSeconds(30)));
            Assert.Equal(0, await first.StopAsync(TimeSpan.FromSeconds(30)));
        }
        using var second = DevProcess.Start(_data, basePort);
        var again = await second.WaitForEndpointsAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("hello", await GetAsync(again, "greeting", TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await second.StopAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task PutAsync(IReadOnlyList<string> endpoints, string key, string value, TimeSpan within, ulong sequence = 1) =>
        await OnAnyNodeAsync(endpoints, within, c => c.PutAsync(new PutRequest
        {
            Key = ByteString.CopyFromUtf8(key),
            Value = ByteString.CopyFromUtf8(value),
            WriteId = new WriteId { ClientId = 42, Sequence = sequence },
        }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);

    private static async Task<string?> GetAsync(IReadOnlyList<string> endpoints, string key, TimeSpan within)
    {
        var r = await OnAnyNodeAsync(endpoints, within, c => c.GetAsync(new GetRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
        return r.Found ? r.Value.ToStringUtf8() : null;
    }

    /// <summary>Tries each node in turn (a non-leader answers FAILED_PRECONDITION) until one serves the call.</summary>
    private static async Task<T> OnAnyNodeAsync<T>(IReadOnlyList<string> endpoints, TimeSpan within, Func<Kv.Proto.V1.Kv.KvClient, Task<T>> call)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            foreach (var endpoint in endpoints)
            {
                using var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = 16 << 20 });
                try
                {
                    return await call(new Kv.Proto.V1.Kv.KvClient(channel));
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(100);
        }
    }

    private static int FreeBasePort()
    {
        var random = new Random();
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int basePort = random.Next(20_000, 60_000);
            if (Enumerable.Range(1, 3).All(i => IsFree(basePort + i))) return basePort;
        }
        throw new InvalidOperationException("No free ports found on 127.0.0.1.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A `Kv.Server dev` child process; always killed (by PID) when disposed if still running.</summary>
    private sealed class DevProcess : IDisposable
    {
        private readonly System.Diagnostics.Process _process;
        private readonly TaskCompletionSource<IReadOnlyList<string>> _endpoints = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private DevProcess(System.Diagnostics.Process process) => _process = process;

        public static DevProcess Start(string data, int basePort)
        {
            string serverDll = Path.Combine(AppContext.BaseDirectory, "Kv.Server.dll");
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { serverDll, "dev", "--data", data, "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                info.ArgumentList.Add(a);
            var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start the server");
            var dev = new DevProcess(process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("client endpoints: ", StringComparison.Ordinal) == true)
                    dev._endpoints.TrySetResult(e.Data["client endpoints: ".Length..].Split(','));
            };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return dev;
        }

        public Task<IReadOnlyList<string>> WaitForEndpointsAsync(TimeSpan within) => _endpoints.Task.WaitAsync(within);

        /// <summary>Sends SIGTERM and waits for the exit code.</summary>
        public async Task<int> StopAsync(TimeSpan within)
        {
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill!.WaitForExitAsync();
            await _process.WaitForExitAsync().WaitAsync(within);
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
