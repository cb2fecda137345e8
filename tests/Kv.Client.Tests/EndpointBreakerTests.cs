using Kv.Client.Tests.Fakes;
using Polly.CircuitBreaker;

namespace Kv.Client.Tests;

/// <summary>
/// One endpoint's breaker (<see cref="EndpointBreaker"/>) on a hand-moved clock: the failure ratio over the sampling
/// window opens it, only failures within the window count, and after a break one probe decides (a failed probe
/// opens it for another break, an answer closes it). Consecutive failures are covered in <see cref="CircuitBreakerTests"/>.
/// </summary>
public sealed class EndpointBreakerTests
{
    private static (EndpointBreaker Breaker, ManualTimeProvider Time) RatioOnly()
    {
        var time = new ManualTimeProvider();
        var options = new KvClientOptions
        {
            CircuitBreakerConsecutiveFailures = 0, // the ratio alone
            CircuitBreakerFailureRatio = 0.5,
            CircuitBreakerMinimumThroughput = 10,
            CircuitBreakerSamplingDuration = TimeSpan.FromSeconds(10),
            CircuitBreakerBreakDuration = TimeSpan.FromSeconds(5),
            TimeProvider = time,
        };
        return (new EndpointBreaker(options), time);
    }

    private static void Outcomes(EndpointBreaker breaker, int answers, int failures)
    {
        for (int i = 0; i < answers; i++) breaker.Answered();
        for (int i = 0; i < failures; i++) breaker.Failed();
    }

    [Fact]
    public void FailureRatio_OpensAtHalfOfTenOrMoreAttempts_NotBelow()
    {
        var (breaker, _) = RatioOnly();

        Outcomes(breaker, answers: 6, failures: 5); // 5 of 11
        Assert.Equal(CircuitState.Closed, breaker.State);
        Outcomes(breaker, answers: 0, failures: 1); // 6 of 12
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.True(breaker.Skipped(claimProbe: true));
    }

    [Fact]
    public void FailureRatio_NeedsTheMinimumThroughput()
    {
        var (breaker, _) = RatioOnly();

        Outcomes(breaker, answers: 0, failures: 9); // all failed, but 9 < 10 attempts
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void OutcomesOlderThanTheSamplingDuration_DoNotCount()
    {
        var (breaker, time) = RatioOnly();

        Outcomes(breaker, answers: 0, failures: 8);
        time.Advance(TimeSpan.FromSeconds(11)); // those 8 left the window
        Outcomes(breaker, answers: 3, failures: 4);
        Assert.Equal(CircuitState.Closed, breaker.State); // 7 attempts in the window: under the minimum
    }

    [Fact]
    public void AfterTheBreak_OneProbe_AFailureOpensAgain_AnAnswerCloses()
    {
        var (breaker, time) = RatioOnly();
        Outcomes(breaker, answers: 5, failures: 5);
        Assert.Equal(CircuitState.Open, breaker.State);

        time.Advance(TimeSpan.FromSeconds(5.1));
        Assert.False(breaker.Skipped(claimProbe: true)); // this caller probes
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.Skipped(claimProbe: true)); // the others wait for it
        breaker.Failed();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.True(breaker.Skipped(claimProbe: true)); // another break

        time.Advance(TimeSpan.FromSeconds(5.1));
        Assert.False(breaker.Skipped(claimProbe: true));
        breaker.Answered();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.False(breaker.Skipped(claimProbe: true));
        Assert.Equal(0, breaker.ConsecutiveFailures);
    }
}
