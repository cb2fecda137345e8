namespace Kv.Server.Clock;

/// <summary>
/// The wall clock the hybrid logical clock reads. Injected so that tests and the simulator control time; the real
/// one may jump backwards (NTP steps, VM migration), which <see cref="HybridLogicalClock"/> tolerates.
/// </summary>
public interface IPhysicalClock
{
    /// <summary>Wall time in nanoseconds since the Unix epoch. Not necessarily monotonic.</summary>
    long NowNanos();
}
