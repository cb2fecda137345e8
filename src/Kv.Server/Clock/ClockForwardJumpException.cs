using Kv.Storage.Encoding;

namespace Kv.Server.Clock;

/// <summary>
/// A remote timestamp led the local physical clock by more than
/// <see cref="HybridLogicalClockOptions.ForwardJumpNanosMax"/>, so the clock refused to jump to it. The peer's clock
/// (or this node's) is broken; the message carrying the timestamp should be refused, not retried.
/// </summary>
public sealed class ClockForwardJumpException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClockForwardJumpException(Timestamp remote, long physicalNanos, long forwardJumpNanosMax)
        : base($"Remote timestamp {remote} leads the local physical clock ({physicalNanos} ns) by "
            + $"{remote.WallNanos - physicalNanos} ns, more than the allowed {forwardJumpNanosMax} ns; "
            + "refusing to jump forward (a peer's clock, or this node's, is broken).")
    {
        Remote = remote;
        PhysicalNanos = physicalNanos;
        ForwardJumpNanosMax = forwardJumpNanosMax;
    }

    /// <summary>The rejected timestamp.</summary>
    public Timestamp Remote { get; }

    /// <summary>The local physical clock when it was rejected.</summary>
    public long PhysicalNanos { get; }

    /// <summary>The bound it exceeded.</summary>
    public long ForwardJumpNanosMax { get; }
}
