namespace Kv.Load;

/// <summary>
/// An open loop's timetable: operation i is due at <c>start + i / rate</c>, whether or not the system kept up. Workers
/// claim the next due operation, wait for its time if it is still ahead, and measure its latency from the time it was
/// <em>due</em> (<see cref="IntendedStart"/>), not from when a worker got to it: a stall then shows in the latency of
/// every operation that should have started during it, instead of being hidden by the workers waiting (coordinated
/// omission). Thread-safe.
/// </summary>
internal sealed class OpenLoopSchedule
{
    private readonly long _start;
    private readonly double _ticksPerOperation;
    private long _next = -1;

    /// <param name="ratePerSecond">Operations per second, more than 0.</param>
    /// <param name="startTimestamp">When operation 0 is due (<see cref="System.Diagnostics.Stopwatch"/> ticks).</param>
    /// <param name="ticksPerSecond">The clock's frequency (<see cref="System.Diagnostics.Stopwatch.Frequency"/>).</param>
    public OpenLoopSchedule(double ratePerSecond, long startTimestamp, long ticksPerSecond)
    {
        if (!(ratePerSecond > 0) || double.IsInfinity(ratePerSecond))
            throw new ArgumentOutOfRangeException(nameof(ratePerSecond), ratePerSecond, "the rate must be a positive number of operations per second");
        _start = startTimestamp;
        _ticksPerOperation = ticksPerSecond / ratePerSecond;
    }

    /// <summary>Takes the next operation off the timetable: its number and when it is due.</summary>
    public (long Number, long DueTimestamp) Claim()
    {
        long n = Interlocked.Increment(ref _next);
        return (n, IntendedStart(n));
    }

    /// <summary>When operation <paramref name="number"/> is due.</summary>
    public long IntendedStart(long number) => _start + (long)(number * _ticksPerOperation);
}
