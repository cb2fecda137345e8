using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kv.Storage.Tests.Crash;

/// <summary>How to start the crash writer: an executable and the arguments that precede the writer's own.</summary>
/// <param name="FileName">The program to run (usually the <c>dotnet</c> host).</param>
/// <param name="PrefixArguments">Arguments before the mode (usually the path of the writer's dll).</param>
public sealed record ChildCommand(string FileName, IReadOnlyList<string> PrefixArguments)
{
    /// <summary>Runs <paramref name="dllPath"/> with the dotnet host that runs this process (or the one on PATH).</summary>
    public static ChildCommand ForDll(string dllPath)
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(host) || !File.Exists(host))
            host = IsDotnetHost(Environment.ProcessPath) ? Environment.ProcessPath! : "dotnet";
        return new ChildCommand(host, [dllPath]);
    }

    /// <summary>Runs the program this process runs (the crash writer starting itself for a soak).</summary>
    public static ChildCommand Self(string assemblyPath) =>
        IsDotnetHost(Environment.ProcessPath) ? new ChildCommand(Environment.ProcessPath!, [assemblyPath])
            : new ChildCommand(Environment.ProcessPath ?? throw new InvalidOperationException("No process path."), []);

    private static bool IsDotnetHost(string? path) =>
        path is not null && Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What one round saw before and after the kill.</summary>
/// <param name="AckedIds">Batch ids of every complete <c>ACK</c> line the writer printed.</param>
/// <param name="KilledAfterMs">Milliseconds from the start of the child to the kill.</param>
/// <param name="Stderr">What the child wrote on stderr (for diagnostics).</param>
public sealed record CrashRoundResult(IReadOnlyList<long> AckedIds, long KilledAfterMs, string Stderr);

/// <summary>
/// One crash round: starts the writer on a directory, lets it run, kills it with SIGKILL (<see cref="Process.Kill()"/>
/// on Linux) and collects the acknowledgements it printed. The child is killed in a finally block whatever happens.
/// </summary>
public static class CrashRound
{
    /// <summary>Longest wait for the child's first acknowledgement.</summary>
    public static readonly TimeSpan FirstAckTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs one round. The kill comes <paramref name="killDelayMs"/> after the first acknowledgement, or after the
    /// start of the child when <paramref name="killFromStart"/> (then possibly before the database even exists).
    /// </summary>
    public static async Task<CrashRoundResult> RunAsync(ChildCommand command, string directory, CrashWriteMode mode,
        int writers, int killDelayMs, bool killFromStart, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (string argument in command.PrefixArguments) startInfo.ArgumentList.Add(argument);
        foreach (string argument in new[] { "write", directory, "--mode", mode.ToString().ToLowerInvariant(),
                     "--writers", writers.ToString(CultureInfo.InvariantCulture) })
            startInfo.ArgumentList.Add(argument);

        var started = Stopwatch.StartNew();
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {command.FileName}.");
        var acked = new List<long>();
        var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task readAcks = ReadAcksAsync(process.StandardOutput.BaseStream, acked, firstAck);
        Task<string> readErrors = process.StandardError.ReadToEndAsync(cancellationToken);
        long killedAfterMs;
        try
        {
            if (!killFromStart)
            {
                var exited = process.WaitForExitAsync(cancellationToken);
                var first = await Task.WhenAny(firstAck.Task, exited, Task.Delay(FirstAckTimeout, cancellationToken)).ConfigureAwait(false);
                if (first != firstAck.Task)
                    throw new InvalidOperationException(exited.IsCompleted
                        ? $"The crash writer exited with code {process.ExitCode} before acknowledging anything."
                        : $"The crash writer acknowledged nothing within {FirstAckTimeout.TotalSeconds} s.");
            }
            await Task.Delay(killDelayMs, cancellationToken).ConfigureAwait(false);
            if (process.HasExited)
                throw new InvalidOperationException($"The crash writer exited by itself with code {process.ExitCode}.");
        }
        finally
        {
            Kill(process);
            killedAfterMs = started.ElapsedMilliseconds;
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await readAcks.ConfigureAwait(false);
        string stderr = await readErrors.ConfigureAwait(false);
        return new CrashRoundResult(acked, killedAfterMs, stderr);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(); // SIGKILL on Linux: no finalizers, no flushes, no RocksDB shutdown.
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    // Only complete lines count: a line cut off by the kill was never fully printed, so it is no acknowledgement.
    private static async Task ReadAcksAsync(Stream stdout, List<long> acked, TaskCompletionSource firstAck)
    {
        var buffer = new byte[64 * 1024];
        var pending = new StringBuilder();
        int read;
        while ((read = await stdout.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            pending.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            string text = pending.ToString();
            int lastNewline = text.LastIndexOf('\n');
            if (lastNewline < 0) continue;
            foreach (string line in text[..lastNewline].Split('\n'))
            {
                if (line.StartsWith("ACK ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                {
                    acked.Add(id);
                    firstAck.TrySetResult();
                }
            }
            pending.Clear().Append(text, lastNewline + 1, text.Length - lastNewline - 1);
        }
    }
}
