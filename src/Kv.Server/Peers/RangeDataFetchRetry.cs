using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Kv.Server.Peers;

/// <summary>
/// How a replica that restores from a snapshot retries fetching its range's data from its peers: until it succeeds
/// or the restore is cancelled (superseded by a newer snapshot, or the node stops), since a replica without its data
/// cannot serve. Each attempt is one pass over the candidate peers; the delay between passes grows linearly from
/// <see cref="DelayMin"/> to <see cref="DelayMax"/> with jitter (±25 %), so peers that are all down cost at most about
/// one pass every <see cref="DelayMax"/> per restoring range, and only one fetch per range is ever in flight.
/// </summary>
internal static class RangeDataFetchRetry
{
    /// <summary>The delay after the first failed pass; the n-th waits n times this, up to <see cref="DelayMax"/>.</summary>
    public static readonly TimeSpan DelayMin = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between passes.</summary>
    public static readonly TimeSpan DelayMax = TimeSpan.FromSeconds(2);

    /// <summary>The pipeline for one restore of range <paramref name="rangeId"/> (restores are rare: one per restore is cheap).</summary>
    public static ResiliencePipeline Create(ILogger logger, ulong rangeId) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            // Bounded by the restore's cancellation, not by a count: giving up would leave the replica without data.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Linear,
            Delay = DelayMin,
            MaxDelay = DelayMax,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(),
            OnRetry = args =>
            {
                logger.LogWarning(args.Outcome.Exception, "Range {Range}: fetching its data failed (attempt {Attempt}); retrying in {DelayMs} ms",
                    rangeId, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                return default;
            },
        })
        .Build();
}
