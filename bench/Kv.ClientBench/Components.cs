using System.Diagnostics;
using Polly;
using Polly.Retry;

namespace Kv.ClientBench;

/// <summary>
/// Pieces of the SDK's retry path (<c>KvClient.RetryAsync</c>, entered only after a retryable failure) measured alone
/// in a loop, with no network: what each allocates and how long it takes. Copies of the SDK's code (its pipeline and
/// deadline handling are private), so they show the cost of the construct, not of the SDK build itself.
/// </summary>
internal static class Components
{
    private const int Ops = 200_000;

    public static ComponentCost[] Measure()
    {
        var defaults = new Kv.Client.KvClientOptions();
        var pipeline = SdkLikePipeline(defaults);
        var list = new List<ComponentCost>
        {
            Measure("linked CTS + CancelAfter", "CancellationTokenSource.CreateLinkedTokenSource(callerToken = default); CancelAfter(OverallDeadline); Dispose — the SDK's overall deadline, per call that retries",
                () =>
                {
                    using var overall = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken.None);
                    overall.CancelAfter(defaults.OverallDeadline);
                    return Task.CompletedTask;
                }),
            Measure("Polly retry pipeline, sync callback", "pipeline.ExecuteAsync(static _ => ValueTask.FromResult(1), token) on a pipeline built as the SDK builds it (retry strategy, same options)",
                async () => await pipeline.ExecuteAsync(static _ => ValueTask.FromResult(1), CancellationToken.None).ConfigureAwait(false)),
            Measure("Polly retry pipeline, capturing async callback", "as above, with a callback that captures a local and awaits a Task.Yield (as the SDK's `async token => { ... await call(...) }` lambda; the Yield costs are included)",
                async () =>
                {
                    int captured = Environment.ProcessorCount;
                    await pipeline.ExecuteAsync(async _ =>
                    {
                        await Task.Yield();
                        return captured;
                    }, CancellationToken.None).ConfigureAwait(false);
                }),
            Measure("Task.Yield baseline", "an async lambda awaiting Task.Yield alone (to subtract from the row above)",
                async () => await Task.Yield()),
        };
        return list.ToArray();
    }

    /// <summary>The SDK's retry pipeline (see <c>KvClient</c>'s constructor), with the same options.</summary>
    private static ResiliencePipeline SdkLikePipeline(Kv.Client.KvClientOptions options) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.RetryAttemptsMax),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is InvalidOperationException),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(options.RetryBackoff),
                OnRetry = args => default,
            })
            .Build();

    private static ComponentCost Measure(string name, string what, Func<Task> op)
    {
        for (int i = 0; i < Ops / 10; i++) op().GetAwaiter().GetResult(); // warmup
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Ops; i++) op().GetAwaiter().GetResult();
        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Ops;
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        return new ComponentCost(name, what, Ops, (double)bytes / Ops, ns);
    }
}
