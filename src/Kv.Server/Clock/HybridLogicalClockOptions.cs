namespace Kv.Server.Clock;

/// <summary>Limits of a <see cref="HybridLogicalClock"/>. Times are in nanoseconds of wall time.</summary>
public sealed record HybridLogicalClockOptions
{
    /// <summary>
    /// The furthest a remote timestamp may lead the local physical clock before
    /// <see cref="HybridLogicalClock.UpdateAsync"/> rejects it. Without this bound, one peer with a clock set a year
    /// ahead would drag every node's timestamps a year ahead, permanently. Should be the cluster's stated maximum
    /// clock offset.
    /// </summary>
    public long ForwardJumpNanosMax { get; init; } = 500_000_000;

    /// <summary>
    /// How far ahead of the clock the persisted upper bound is set. Larger means fewer bound writes (about one per
    /// half of this under steady load) but a larger lead over the physical clock right after a restart, which is
    /// why it must stay below <see cref="ForwardJumpNanosMax"/>: otherwise peers would reject a freshly restarted
    /// node's timestamps.
    /// </summary>
    public long PersistAheadNanos { get; init; } = 200_000_000;

    /// <summary>Throws on options that would make the clock unusable.</summary>
    public void Validate()
    {
        if (ForwardJumpNanosMax <= 0)
            throw new ArgumentOutOfRangeException(nameof(ForwardJumpNanosMax), ForwardJumpNanosMax, "Must be positive.");
        if (PersistAheadNanos <= 0)
            throw new ArgumentOutOfRangeException(nameof(PersistAheadNanos), PersistAheadNanos, "Must be positive.");
        if (PersistAheadNanos >= ForwardJumpNanosMax)
            throw new ArgumentOutOfRangeException(nameof(PersistAheadNanos), PersistAheadNanos,
                $"Must be below {nameof(ForwardJumpNanosMax)} ({ForwardJumpNanosMax}), or peers reject a restarted node's timestamps.");
    }
}
