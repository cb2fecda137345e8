using Microsoft.Extensions.Logging;

namespace Kv.Server.Node;

/// <summary>
/// Runs a round of background work every interval until stopped: each round bounded in time, a failed round logged
/// and retried at the next tick (splits, the transaction sweeper).
/// </summary>
internal static class PeriodicRounds
{
    public static async Task RunAsync(TimeSpan interval, TimeSpan roundMax, Func<CancellationToken, Task> round, ILogger logger, LogLevel failureLevel,
        string what, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    bounded.CancelAfter(roundMax);
                    await round(bounded.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    logger.Log(failureLevel, e, "{What} failed; retrying next round", what);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
