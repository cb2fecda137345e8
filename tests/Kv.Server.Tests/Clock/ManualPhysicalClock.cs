using Kv.Server.Clock;

namespace Kv.Server.Tests.Clock;

/// <summary>A physical clock that tests set and move by hand, in either direction.</summary>
internal sealed class ManualPhysicalClock(long startNanos) : IPhysicalClock
{
    private long _nowNanos = startNanos;

    public long NowNanos() => Interlocked.Read(ref _nowNanos);

    public void Set(long nanos) => Interlocked.Exchange(ref _nowNanos, nanos);

    public void Advance(long nanos) => Interlocked.Add(ref _nowNanos, nanos);
}
