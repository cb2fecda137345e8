using System.Diagnostics;

namespace Kv.Load.Tests;

public class ServerCpuTests
{
    /// <summary>
    /// The "server" is this test process and each operation spins for 2 ms: CPU is counted over the measured window
    /// (some, since the spinning burns it whenever it runs; on a loaded machine how much is not known), and not more
    /// than every core for the whole run.
    /// </summary>
    [Fact]
    public async Task Server_cpu_is_sampled_over_the_measured_window()
    {
        var options = new LoadOptions
        {
            Target = LoadTargetKind.Kv,
            Endpoints = ["http://127.0.0.1:1"],
            Operation = LoadOperation.Put,
            Clients = 1,
            Seconds = 1,
            WarmupSeconds = 0.3,
            ServerPids = [Environment.ProcessId],
        };
        var run = await LoadRunner.RunAsync(options, 1, async (_, _) =>
        {
            long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 500;
            while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(50);
            // Yield like a real (network) operation: a worker that never yields can hold the thread the sampler's
            // timer needs on a loaded 2-core machine, and the window's first sample then comes only at its end.
            await Task.Yield();
            return default(OperationOutcome);
        }, null, CancellationToken.None);
        var result = LoadResult.Merge(options, run);

        Assert.NotNull(result.ServerCpuSeconds);
        Assert.InRange(result.ServerCpuSeconds!.Value, 0.01, Environment.ProcessorCount * 1.5);
        Assert.Equal(result.ServerCpuSeconds.Value * 1000 / result.Ops, result.ServerCpuSecondsPer1000Ops!.Value, 6);
    }
}
