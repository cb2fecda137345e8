using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Kv.Server.Tests.Process;

/// <summary>
/// One `Kv.Server node …` child process (`dotnet Kv.Server.dll` from the test's output directory). Its output is
/// kept (the last lines) for diagnostics. Disposing kills it by PID if it is still running.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private const int LogLinesKept = 400;
    private readonly System.Diagnostics.Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(int nodeId, System.Diagnostics.Process process)
    {
        NodeId = nodeId;
        _process = process;
    }

    public int NodeId { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts `node` with these flags (after `node`). <paramref name="environment"/> adds variables to the inherited
    /// ones (a null value removes one); <paramref name="serverDll"/> defaults to the test's own copy of Kv.Server.dll.
    /// </summary>
    public static NodeProcess Start(int nodeId, IEnumerable<string> flags,
        IReadOnlyDictionary<string, string?>? environment = null, string? serverDll = null)
    {
        serverDll ??= Path.Combine(AppContext.BaseDirectory, "Kv.Server.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }
        // Per-request logs would push everything else out of the kept tail.
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        info.Environment["Logging__LogLevel__Grpc"] = "Warning";
        info.ArgumentList.Add(serverDll);
        info.ArgumentList.Add("node");
        foreach (var f in flags) info.ArgumentList.Add(f);
        var process = new System.Diagnostics.Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(nodeId, process);
        string ready = $"node {nodeId} serving on ";
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            node.Append(e.Data);
            if (e.Data.StartsWith(ready, StringComparison.Ordinal)) node._serving.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) node.Append("stderr: " + e.Data);
        };
        process.Exited += (_, _) => node._serving.TrySetException(
            new InvalidOperationException($"node {nodeId} exited before serving:\n{node.LogTail(60)}"));
        if (!process.Start()) throw new InvalidOperationException("could not start the server");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Completes once the node printed "node N serving on …"; fails if it exits first.</summary>
    public Task WaitUntilServingAsync(TimeSpan within) => _serving.Task.WaitAsync(within);

    /// <summary>Waits until the process exits by itself (a crash, for example); fails after <paramref name="within"/>.</summary>
    public Task WaitForExitAsync(TimeSpan within) => _process.WaitForExitAsync().WaitAsync(within);

    /// <summary>The exit code (once it exited).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL (Process.Kill on Linux), then waits for the exit.</summary>
    public async Task KillAsync()
    {
        Append("[test] SIGKILL");
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM (a clean stop), and the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan within)
    {
        Append("[test] SIGTERM");
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            await kill!.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(within);
        return _process.ExitCode;
    }

    /// <summary>The last lines the process printed.</summary>
    public string LogTail(int lines = 80) => string.Join('\n', _log.ToArray().TakeLast(lines));

    private void Append(string line)
    {
        _log.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        while (_log.Count > LogLinesKept) _log.TryDequeue(out _);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5_000);
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        _process.Dispose();
    }
}
