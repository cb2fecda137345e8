using System.Diagnostics;
using Kv.Client.Tests.Fakes;

namespace Kv.Client.Tests;

/// <summary>
/// Reads while the cluster elects a leader, on a <see cref="FakeKvCluster"/>: for 1.5 s no node leads the range and
/// every node answers NotLeader, naming no leader or a stale one; then node B leads. The client must back off through
/// the election rather than spend its retries at once, and follow a hint that names the real leader at once.
/// </summary>
public sealed class KvClientElectionTests
{
    private const string A = "http://a.fake:1", B = "http://b.fake:1", C = "http://c.fake:1";
    private static readonly TimeSpan ElectionLength = TimeSpan.FromMilliseconds(1500);

    /// <summary>What the nodes name as the leader during the election.</summary>
    public enum Hints
    {
        /// <summary>No leader named (the nodes know of none).</summary>
        None,

        /// <summary>A stale leader: A names C and C names A (each thinks the other still leads), B names none.</summary>
        Stale,
    }

    /// <summary>A cluster of A, B, C electing for <see cref="ElectionLength"/> from now, then led by B; and whether the election is over.</summary>
    private static (FakeKvCluster Cluster, Func<bool> Elected) Electing(Hints hints)
    {
        var cluster = new FakeKvCluster(A, B, C);
        cluster.Seed("k", "v");
        var clock = Stopwatch.StartNew();
        bool Elected() => clock.Elapsed >= ElectionLength;
        cluster.LeaderOf = _ => Elected() ? B : "";
        if (hints == Hints.Stale) cluster.HintAt = (node, _) => Elected() ? B : node == A ? C : node == C ? A : "";
        else cluster.LeaderHints = false;
        return (cluster, Elected);
    }

    private static KvClient NewClient(FakeKvCluster cluster, Action<KvClientOptions>? configure = null)
    {
        var options = new KvClientOptions { HttpHandlerFactory = cluster.Handler }; // default retries: 10, backoff 50 ms doubling to 1 s
        configure?.Invoke(options);
        return new KvClient([A, B, C], options);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(Hints.None)]
    [InlineData(Hints.Stale)]
    public async Task Get_DuringA1500MsElection_BacksOffAndSucceedsOnceALeaderIsElected(Hints hints)
    {
        var (cluster, elected) = Electing(hints);
        await using var client = NewClient(cluster);

        Assert.Equal("v", await client.GetStringAsync("k"));

        Assert.True(elected());
        Assert.Equal(B, client.CachedLeaderEndpoint);
    }

    /// <summary>
    /// The broken variant of the test above: the same read with retries that do not back off (as NotLeader answers
    /// were retried before) spends its retries within the election and fails, so the test above can fail.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData(Hints.None)]
    [InlineData(Hints.Stale)]
    public async Task BrokenVariant_RetriesWithoutBackoff_GiveUpDuringTheElection(Hints hints)
    {
        var (cluster, elected) = Electing(hints);
        await using var client = NewClient(cluster, o => (o.RetryBackoff, o.RetryBackoffMax) = (TimeSpan.Zero, TimeSpan.Zero));

        await Assert.ThrowsAsync<KvUnavailableException>(() => client.GetStringAsync("k"));

        Assert.False(elected());
    }

    /// <summary>
    /// A NotLeader naming the leader is followed at once: with a backoff of at least 10 s and an overall deadline of
    /// 5 s, any backoff would end the call with DeadlineExceeded.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task NotLeaderNamingTheLeader_IsFollowedAtOnce()
    {
        var cluster = new FakeKvCluster(A, B, C) { LeaderOf = _ => B };
        cluster.Seed("k", "v");
        await using var client = NewClient(cluster, o =>
        {
            o.RetryBackoff = o.RetryBackoffMax = TimeSpan.FromSeconds(20);
            o.OverallDeadline = TimeSpan.FromSeconds(5);
        });

        Assert.Equal("v", await client.GetStringAsync("k")); // the first seed, A, names B

        Assert.Equal(B, client.CachedLeaderEndpoint);
    }

    /// <summary>
    /// A leader reached without a redirect (the range map sent the Get to a replica that leads) is cached as the range's
    /// leader, so that later Gets go straight to it instead of through the map's replica list.
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task LeaderReachedWithoutARedirect_IsCachedForItsRange()
    {
        var cluster = new FakeKvCluster(A, B, C) { LeaderOf = _ => A };
        cluster.Seed("k", "v");
        await using var client = NewClient(cluster);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (client.Router.LeaderOf(1) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the leader of range 1 was never cached");
            Assert.Equal("v", await client.GetStringAsync("k")); // the first loads the range map in the background
            await Task.Delay(10);
        }

        Assert.Equal(A, client.Router.LeaderOf(1));
        Assert.Equal(0, cluster.AttemptsAt(B) + cluster.AttemptsAt(C)); // no redirect: A answered every request
    }
}
