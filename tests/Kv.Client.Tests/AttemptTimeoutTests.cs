using System.Diagnostics;
using Kv.Client.Tests.Fakes;

namespace Kv.Client.Tests;

/// <summary>
/// The shared deadline tokens of attempts (<see cref="AttemptTimeout"/>): attempts starting within one slot (1/64 of
/// the timeout, read from the clock given) share a token; a later slot gets its own; a token is never cancelled
/// before the timeout has passed for every attempt holding it; a caller's cancellable token gets a gRPC deadline.
/// </summary>
public sealed class AttemptTimeoutTests
{
    [Fact]
    public void AttemptsWithinOneSlot_ShareAToken_AndTheNextSlotHasItsOwn()
    {
        var time = new ManualTimeProvider();
        var timeout = new AttemptTimeout(TimeSpan.FromSeconds(64), time); // slots of 1 s

        var first = timeout.SharedToken();
        time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(first, timeout.SharedToken());
        time.Advance(TimeSpan.FromMilliseconds(200));
        var next = timeout.SharedToken();

        Assert.NotEqual(first, next);
        Assert.Equal(next, timeout.SharedToken());
    }

    [Fact(Timeout = 30_000)]
    public async Task ASharedToken_IsCancelledNoEarlierThanTheTimeout_AndNotMuchLater()
    {
        var timeout = new AttemptTimeout(TimeSpan.FromMilliseconds(300), TimeProvider.System);
        var clock = Stopwatch.StartNew();
        var token = timeout.SharedToken();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = token.Register(() => cancelled.TrySetResult());

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(295), $"cancelled after {clock.Elapsed.TotalMilliseconds:0} ms, before the 300 ms timeout");
    }

    [Fact]
    public void CallOptions_ShareATokenOnlyWhenAllowedAndTheCallerCannotCancel()
    {
        var timeout = new AttemptTimeout(TimeSpan.FromSeconds(5), TimeProvider.System);
        using var caller = new CancellationTokenSource();

        var shared = timeout.Options(mayShare: true, CancellationToken.None);
        var withCaller = timeout.Options(mayShare: true, caller.Token);
        var own = timeout.Options(mayShare: false, CancellationToken.None);

        Assert.Null(shared.Deadline);
        Assert.True(shared.CancellationToken.CanBeCanceled);
        Assert.Equal(caller.Token, withCaller.CancellationToken);
        Assert.NotNull(withCaller.Deadline);
        Assert.NotNull(own.Deadline);
        Assert.InRange(own.Deadline!.Value - DateTime.UtcNow, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
    }
}
