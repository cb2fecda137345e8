using Kv.Server.Clock;
using Kv.Storage.Encoding;

namespace Kv.Server.Tests.Clock;

public sealed class HybridLogicalClockTests
{
    private const long Second = 1_000_000_000;
    private const long Millisecond = 1_000_000;
    private static readonly HybridLogicalClockOptions Options = new();

    private static HybridLogicalClock NewClock(ManualPhysicalClock physical, BoundStore store, Timestamp? floor = null) =>
        new(physical, floor ?? store.Durable, Options, store.PersistAsync);

    [Fact]
    public async Task Now_FollowsThePhysicalClock_WhenItMovesForward()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());

        Assert.Equal(new Timestamp(100 * Second, 0), await clock.NowAsync());
        physical.Advance(5);
        Assert.Equal(new Timestamp(100 * Second + 5, 0), await clock.NowAsync());
    }

    [Fact]
    public async Task Now_PhysicalClockJumpsBackwards_StaysStrictlyIncreasing()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        var issued = new List<Timestamp> { await clock.NowAsync() };

        physical.Set(40 * Second); // an NTP step back of a minute
        for (int i = 0; i < 1000; i++) issued.Add(await clock.NowAsync());
        physical.Set(100 * Second + 1); // and back to normal
        issued.Add(await clock.NowAsync());

        AssertStrictlyIncreasing(issued);
        Assert.Equal(new Timestamp(100 * Second, 1000), issued[1000]); // the logical counter carried the gap
        Assert.Equal(new Timestamp(100 * Second + 1, 0), issued[^1]);
    }

    [Fact]
    public async Task Now_PhysicalClockStalls_AdvancesTheLogicalCounter()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());

        Assert.Equal(new Timestamp(100 * Second, 0), await clock.NowAsync());
        Assert.Equal(new Timestamp(100 * Second, 1), await clock.NowAsync());
        Assert.Equal(new Timestamp(100 * Second, 2), await clock.NowAsync());
    }

    [Fact]
    public async Task Now_LogicalCounterFull_CarriesIntoWallTime()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = NewClock(physical, store, floor: new Timestamp(100 * Second, int.MaxValue - 1));

        Assert.Equal(new Timestamp(100 * Second, int.MaxValue), await clock.NowAsync());
        Assert.Equal(new Timestamp(100 * Second + 1, 0), await clock.NowAsync());
    }

    [Fact]
    public async Task Update_RemoteAhead_ResultExceedsBoth()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        Timestamp local = await clock.NowAsync();
        var remote = new Timestamp(100 * Second + 300 * Millisecond, 7);

        Timestamp result = await clock.UpdateAsync(remote);

        Assert.True(result > local && result > remote, $"{result} vs local {local}, remote {remote}");
        Assert.Equal(new Timestamp(remote.WallNanos, 8), result);
        Assert.True(await clock.NowAsync() > result);
    }

    [Fact]
    public async Task Update_RemoteBehind_ResultExceedsBoth()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        Timestamp local = await clock.NowAsync();
        var remote = new Timestamp(90 * Second, 3);

        Timestamp result = await clock.UpdateAsync(remote);

        Assert.True(result > local && result > remote);
        Assert.Equal(new Timestamp(100 * Second, 1), result);
    }

    [Fact]
    public async Task Update_SameWallTime_TakesTheHigherLogicalPlusOne()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        await clock.NowAsync(); // (100 s, 0)
        await clock.NowAsync(); // (100 s, 1)

        Assert.Equal(new Timestamp(100 * Second, 6), await clock.UpdateAsync(new Timestamp(100 * Second, 5)));
        Assert.Equal(new Timestamp(100 * Second, 7), await clock.UpdateAsync(new Timestamp(100 * Second, 2)));
    }

    [Fact]
    public async Task Update_RemoteTooFarAhead_IsRejectedAndLeavesTheClockUnchanged()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        Timestamp before = await clock.NowAsync();
        var broken = new Timestamp(100 * Second + Options.ForwardJumpNanosMax + 1, 0);

        var e = await Assert.ThrowsAsync<ClockForwardJumpException>(async () => await clock.UpdateAsync(broken));

        Assert.Equal(broken, e.Remote);
        Assert.Equal(100 * Second, e.PhysicalNanos);
        Assert.Contains("refusing to jump forward", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, clock.Last);
        Assert.Equal(new Timestamp(100 * Second, 1), await clock.NowAsync());
    }

    [Fact]
    public async Task Update_RemoteAheadByExactlyTheBound_IsAccepted()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var clock = NewClock(physical, new BoundStore());
        var remote = new Timestamp(100 * Second + Options.ForwardJumpNanosMax, 0);

        Assert.Equal(new Timestamp(remote.WallNanos, 1), await clock.UpdateAsync(remote));
    }

    [Fact]
    public async Task Update_RemoteAtTheEndOfTime_IsRejectedWithoutOverflow()
    {
        var clock = NewClock(new ManualPhysicalClock(100 * Second), new BoundStore());

        await Assert.ThrowsAsync<ClockForwardJumpException>(async () => await clock.UpdateAsync(Timestamp.Max));
    }

    private static void AssertStrictlyIncreasing(IReadOnlyList<Timestamp> timestamps)
    {
        for (int i = 1; i < timestamps.Count; i++)
            Assert.True(timestamps[i] > timestamps[i - 1], $"#{i}: {timestamps[i]} is not above {timestamps[i - 1]}");
    }
}
