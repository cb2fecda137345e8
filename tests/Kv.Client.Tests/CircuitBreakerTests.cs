using Kv.Client.Tests.Fakes;
using Polly.CircuitBreaker;

namespace Kv.Client.Tests;

/// <summary>
/// The per-endpoint circuit breakers, without a server: a <see cref="FakeKvCluster"/> behind the client's HTTP handler
/// and a hand-moved clock for the breaks. Evidence is counted requests per endpoint, never elapsed time.
/// </summary>
public sealed class CircuitBreakerTests
{
    private const string Dead = "http://dead.fake:1", A = "http://a.fake:1", B = "http://b.fake:1";

    private static KvClient NewClient(FakeKvCluster cluster, ManualTimeProvider time, IEnumerable<string> seeds, int retries = 30) =>
        new(seeds, new KvClientOptions
        {
            PerCallTimeout = TimeSpan.FromSeconds(5),
            OverallDeadline = TimeSpan.FromSeconds(20),
            RetryAttemptsMax = retries,
            RetryBackoff = TimeSpan.Zero,
            RetryBackoffMax = TimeSpan.Zero,
            HttpHandlerFactory = cluster.Handler,
            TimeProvider = time,
        });

    /// <summary>
    /// A dead replica among two live ones whose leadership keeps moving and who name no leader (as in elections):
    /// the client rotates through the replicas, so without a breaker every other operation or so would try the dead
    /// one first. Its breaker opens after <see cref="KvClientOptions.CircuitBreakerConsecutiveFailures"/> refused
    /// connections, and then no request goes there until the break is over; then exactly one probe per break, until
    /// the node is back and a probe closes the breaker.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task DeadReplicaAmongLiveOnes_AfterItsBreakerOpens_GetsNoRequests_ThenOneProbePerBreak()
    {
        var cluster = new FakeKvCluster(Dead, A, B) { LeaderHints = false };
        cluster.Dead[Dead] = true;
        int operations = 0;
        cluster.LeaderOf = _ => Volatile.Read(ref operations) % 2 == 0 ? A : B;
        cluster.Seed("k", "v");
        var time = new ManualTimeProvider();
        await using var client = NewClient(cluster, time, [Dead, A, B]);

        async Task OperateAsync(int times)
        {
            for (int i = 0; i < times; i++)
            {
                Assert.Equal("v", await client.GetStringAsync("k"));
                Interlocked.Increment(ref operations); // the leadership moves
            }
        }

        for (int i = 0; i < 20 && !client.Router.IsOpen(Dead); i++) await OperateAsync(1);
        Assert.True(client.Router.IsOpen(Dead));
        int opened = cluster.AttemptsAt(Dead);
        Assert.InRange(opened, 2, 3); // two refusals in a row (plus, at most, the background range-map load racing them)

        await OperateAsync(40);
        Assert.Equal(opened, cluster.AttemptsAt(Dead));
        Assert.True(cluster.AttemptsAt(A) + cluster.AttemptsAt(B) >= 40);

        // The break is over: the next time routing comes to it, one probe; it fails, and the breaker opens again.
        time.Advance(TimeSpan.FromSeconds(5.1));
        for (int i = 0; i < 20 && cluster.AttemptsAt(Dead) == opened; i++) await OperateAsync(1);
        Assert.Equal(opened + 1, cluster.AttemptsAt(Dead));
        await OperateAsync(20);
        Assert.Equal(opened + 1, cluster.AttemptsAt(Dead));
        Assert.True(client.Router.IsOpen(Dead));

        // Back: the next probe is answered (NotLeader is an answer) and closes the breaker.
        cluster.Dead.TryRemove(Dead, out _);
        time.Advance(TimeSpan.FromSeconds(5.1));
        for (int i = 0; i < 20 && client.Router.BreakerState(Dead) != CircuitState.Closed; i++) await OperateAsync(1);
        Assert.Equal(CircuitState.Closed, client.Router.BreakerState(Dead));
        Assert.False(client.Router.IsSkipped(Dead));
    }

    /// <summary>
    /// Every endpoint's breaker open: an operation still tries one (a breaker never fails a call by itself), and once
    /// a node answers such an attempt its breaker closes at once, without waiting for the break to end.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task EveryBreakerOpen_TheClientTriesAnyway_AndAnAnswerClosesTheBreaker()
    {
        var cluster = new FakeKvCluster(A, B);
        cluster.Dead[A] = true;
        cluster.Dead[B] = true;
        cluster.Seed("k", "v");
        var time = new ManualTimeProvider();
        await using var client = NewClient(cluster, time, [A, B], retries: 4);

        await Assert.ThrowsAsync<KvUnavailableException>(() => client.GetAsync("k"));
        Assert.True(client.Router.IsOpen(A));
        Assert.True(client.Router.IsOpen(B));

        int before = cluster.AttemptsAt(A) + cluster.AttemptsAt(B);
        await Assert.ThrowsAsync<KvUnavailableException>(() => client.GetAsync("k"));
        Assert.True(cluster.AttemptsAt(A) + cluster.AttemptsAt(B) >= before + 5, "an operation with every breaker open did not try the nodes");

        cluster.Dead.TryRemove(A, out _); // the leader is back; no time passes
        Assert.Equal("v", await client.GetStringAsync("k"));
        Assert.Equal(CircuitState.Closed, client.Router.BreakerState(A));
        Assert.True(client.Router.IsOpen(B));
    }

    [Theory]
    [InlineData(nameof(KvClientOptions.CircuitBreakerMinimumThroughput))]
    [InlineData(nameof(KvClientOptions.CircuitBreakerConsecutiveFailures))]
    [InlineData(nameof(KvClientOptions.CircuitBreakerFailureRatio))]
    [InlineData(nameof(KvClientOptions.CircuitBreakerBreakDuration))]
    [InlineData(nameof(KvClientOptions.BatchOperationsMax))]
    public void InvalidOptions_AreRefusedAtConstruction(string option)
    {
        var options = new KvClientOptions();
        switch (option)
        {
            case nameof(KvClientOptions.CircuitBreakerMinimumThroughput): options.CircuitBreakerMinimumThroughput = 1; break;
            case nameof(KvClientOptions.CircuitBreakerFailureRatio): options.CircuitBreakerFailureRatio = 0; break;
            case nameof(KvClientOptions.CircuitBreakerConsecutiveFailures): options.CircuitBreakerConsecutiveFailures = -1; break;
            case nameof(KvClientOptions.CircuitBreakerBreakDuration): options.CircuitBreakerBreakDuration = TimeSpan.FromMilliseconds(100); break;
            default: options.BatchOperationsMax = 1_001; break;
        }
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KvClient(["http://127.0.0.1:1"], options));
        Assert.Equal(option, e.ParamName);
    }
}
