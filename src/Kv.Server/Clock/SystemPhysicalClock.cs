namespace Kv.Server.Clock;

/// <summary>The machine's wall clock, read through a <see cref="TimeProvider"/> (100 ns resolution).</summary>
public sealed class SystemPhysicalClock : IPhysicalClock
{
    // DateTimeOffset ticks are 100 ns.
    private const long NanosPerTick = 100;

    private readonly TimeProvider _time;

    /// <summary>Reads <see cref="TimeProvider.System"/>.</summary>
    public SystemPhysicalClock() : this(TimeProvider.System) { }

    /// <summary>Reads <paramref name="time"/>, for hosts that already inject a <see cref="TimeProvider"/>.</summary>
    public SystemPhysicalClock(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <inheritdoc />
    public long NowNanos() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * NanosPerTick;
}
