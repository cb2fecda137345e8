using System.Diagnostics;
using System.Text;

namespace Kv.Deploy.Tests.Tools;

/// <summary>What a finished tool run printed and returned.</summary>
internal sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}

/// <summary>
/// Runs a command-line tool (kubectl, node, dotnet, git) bounded in time. A missing tool fails the test with what to
/// install: these checks are never skipped, CI installs the tools (.ci/run).
/// </summary>
internal static class ExternalTool
{
    public static readonly IReadOnlyDictionary<string, string> InstallHints = new Dictionary<string, string>
    {
        ["kubectl"] = "install kubectl (e.g. apt-get install kubectl from the Kubernetes apt repository); only `kubectl kustomize` is used, offline",
        ["node"] = "install Node.js 20 or later (apt-get install nodejs npm), then run `npm ci` in deploy/validate",
        ["git"] = "install git",
        ["dotnet"] = "install the .NET 10 SDK",
    };

    public static async Task<ToolResult> RunAsync(string tool, IEnumerable<string> arguments, TimeSpan timeout,
        string? standardInput = null, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string path = Find(tool);
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryPaths.Root,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {path}");
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null) await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}:\n{error}");
        }
        process.WaitForExit(); // drains the output events
        lock (output) lock (error) return new ToolResult(process.ExitCode, output.ToString(), error.ToString());
    }

    /// <summary>The tool's path on PATH, or a test failure naming what to install.</summary>
    public static string Find(string tool)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Fail($"{tool} is not on PATH: {InstallHints.GetValueOrDefault(tool, $"install {tool}")}.");
        throw new InvalidOperationException("unreachable");
    }
}
