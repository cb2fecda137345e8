using Kv.Server.Clock;
using Kv.Storage.Encoding;

namespace Kv.Server.Tests.Clock;

/// <summary>The durable upper bound: no timestamp above it is issued, and a restart resumes above it.</summary>
public sealed class HybridLogicalClockBoundTests
{
    private const long Second = 1_000_000_000;
    private const long Millisecond = 1_000_000;
    private static readonly HybridLogicalClockOptions Options = new();

    [Fact]
    public async Task FirstTimestamp_WaitsUntilItsBoundIsDurable()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        store.Hold();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);

        ValueTask<Timestamp> first = clock.NowAsync();

        Assert.False(first.IsCompleted);
        Assert.Equal([new Timestamp(100 * Second + Options.PersistAheadNanos, 0)], store.Written);
        store.Release();
        Timestamp issued = await first;
        Assert.Equal(new Timestamp(100 * Second, 0), issued);
        Assert.True(issued <= store.Durable);
        Assert.Equal(store.Durable, clock.DurableBound);
    }

    [Fact]
    public async Task PersistBoundAtStartUp_FirstTimestampsNeedNoWrite()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);

        await clock.PersistBoundAsync();
        store.Hold();

        Assert.True(clock.NowAsync().IsCompletedSuccessfully);
        Assert.Equal(1, store.WriteCount);
    }

    [Fact]
    public async Task ApproachingTheBound_RenewsInTheBackground_WithoutMakingCallersWait()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
        await clock.PersistBoundAsync();
        Timestamp bound = clock.DurableBound;
        store.Hold();

        physical.Set(bound.WallNanos - Options.PersistAheadNanos / 2 + 1);
        ValueTask<Timestamp> nearBound = clock.NowAsync();
        ValueTask<Timestamp> next = clock.NowAsync();

        Assert.True(nearBound.IsCompletedSuccessfully && next.IsCompletedSuccessfully);
        Assert.Equal(2, store.WriteCount); // the renewal started once, and is still in flight
        Assert.Equal(bound, clock.DurableBound);
        store.Release();
        await clock.PersistBoundAsync(); // waits for the renewal (and persists nothing more if it suffices)
        Assert.True(clock.DurableBound > bound);
    }

    [Fact]
    public async Task RandomWalkOfThePhysicalClock_NeverIssuesAboveTheDurableBound()
    {
        var random = new Random(20240607);
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
        Timestamp previous = Timestamp.Zero;

        for (int i = 0; i < 20_000; i++)
        {
            physical.Advance(random.Next(-50, 100) * Millisecond / 10);
            Timestamp issued = random.Next(4) == 0
                ? await clock.UpdateAsync(new Timestamp(physical.NowNanos() + random.Next(0, 400) * Millisecond, random.Next(10)))
                : await clock.NowAsync();
            Assert.True(issued > previous, $"step {i}: {issued} after {previous}");
            Assert.True(issued <= store.Durable, $"step {i}: {issued} above the durable bound {store.Durable}");
            previous = issued;
        }
    }

    [Fact]
    public async Task Update_RemoteBeyondTheBound_WaitsForABoundAboveIt()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
        await clock.PersistBoundAsync();
        var remote = new Timestamp(clock.DurableBound.WallNanos + 100 * Millisecond, 4);
        store.Hold();

        ValueTask<Timestamp> update = clock.UpdateAsync(remote);

        Assert.False(update.IsCompleted);
        store.Release();
        Timestamp result = await update;
        Assert.Equal(new Timestamp(remote.WallNanos, 5), result);
        Assert.True(result <= store.Durable);
    }

    [Fact]
    public async Task Restart_WithTheWallClockBehind_NeverIssuesAtOrBelowAnEarlierTimestamp()
    {
        var random = new Random(7);
        var physical = new ManualPhysicalClock(1000 * Second);
        var store = new BoundStore();
        var issued = new List<Timestamp>();

        for (int life = 0; life < 6; life++)
        {
            var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
            for (int i = 0; i < 500; i++)
            {
                physical.Advance(random.Next(0, 3) * Millisecond);
                issued.Add(i % 7 == 3
                    ? await clock.UpdateAsync(new Timestamp(physical.NowNanos() + 300 * Millisecond, 0))
                    : await clock.NowAsync());
            }
            // Crash, and come back on a machine whose clock is behind: by a minute, or by a hair.
            physical.Advance(life % 2 == 0 ? -60 * Second : -1);
        }

        AssertStrictlyIncreasing(issued);
    }

    [Fact]
    public async Task Restart_WhileABoundWriteWasInFlight_ResumesAboveEverythingIssued()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
        await clock.PersistBoundAsync();
        Timestamp durableBeforeCrash = store.Durable;
        store.Hold(); // the disk stops acknowledging: the renewal below never becomes durable
        var issued = new List<Timestamp>();
        for (int i = 0; i < 300; i++)
        {
            physical.Advance(Millisecond);
            ValueTask<Timestamp> next = clock.NowAsync();
            if (!next.IsCompleted) break; // out of bound: the clock waits rather than issue above it
            issued.Add(await next);
        }
        Assert.True(store.WriteCount >= 2, "a renewal was attempted");
        Assert.All(issued, t => Assert.True(t <= durableBeforeCrash));

        // Crash: the held write is lost. Restart from what is durable, with the clock a second behind.
        physical.Advance(-Second);
        var fresh = new BoundStore();
        await fresh.PersistAsync(store.Durable);
        var restarted = new HybridLogicalClock(physical, fresh.Durable, Options, fresh.PersistAsync);

        Timestamp first = await restarted.NowAsync();
        Assert.True(first > issued[^1], $"{first} must be above {issued[^1]}");
    }

    [Fact]
    public async Task PersistFails_TheWaitingCallerSeesIt_AndTheNextCallRetries()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        int calls = 0;
        var clock = new HybridLogicalClock(physical, Timestamp.Zero, Options, _ =>
            ++calls == 1 ? ValueTask.FromException(new IOException("disk full")) : ValueTask.CompletedTask);

        var e = await Assert.ThrowsAsync<IOException>(async () => await clock.NowAsync());
        Assert.Equal("disk full", e.Message);
        Assert.Equal(Timestamp.Zero, clock.DurableBound);

        Assert.Equal(new Timestamp(100 * Second, 0), await clock.NowAsync());
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task CallerCancelsWhileWaitingForTheBound_OthersStillGetTimestamps()
    {
        var physical = new ManualPhysicalClock(100 * Second);
        var store = new BoundStore();
        store.Hold();
        var clock = new HybridLogicalClock(physical, store.Durable, Options, store.PersistAsync);
        using var cancel = new CancellationTokenSource();

        ValueTask<Timestamp> cancelled = clock.NowAsync(cancel.Token);
        ValueTask<Timestamp> patient = clock.NowAsync();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        store.Release();
        Assert.Equal(new Timestamp(100 * Second, 0), await patient);
        Assert.Equal(1, store.WriteCount);
    }

    [Fact]
    public void Options_PersistAheadNotBelowTheForwardJumpBound_AreRejected()
    {
        var bad = new HybridLogicalClockOptions { ForwardJumpNanosMax = 100, PersistAheadNanos = 100 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(
            () => new HybridLogicalClock(new ManualPhysicalClock(0), Timestamp.Zero, bad, _ => ValueTask.CompletedTask));
        Assert.Equal(nameof(HybridLogicalClockOptions.PersistAheadNanos), e.ParamName);
    }

    private static void AssertStrictlyIncreasing(IReadOnlyList<Timestamp> timestamps)
    {
        for (int i = 1; i < timestamps.Count; i++)
            Assert.True(timestamps[i] > timestamps[i - 1], $"#{i}: {timestamps[i]} is not above {timestamps[i - 1]}");
    }
}
