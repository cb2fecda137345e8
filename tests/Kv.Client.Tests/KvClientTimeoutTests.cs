using Kv.Client.Tests.Fakes;

namespace Kv.Client.Tests;

/// <summary>
/// The per-call timeout against a node that hangs (a <see cref="FakeKvCluster"/> whose node never answers): the caller
/// gets a <see cref="KvException"/> with <see cref="KvErrorCode.DeadlineExceeded"/> and advice, never a bare
/// cancellation it did not ask for; a read moves on to another node.
/// </summary>
public sealed class KvClientTimeoutTests
{
    private const string A = "http://a.fake:1", B = "http://b.fake:1";
    private const string GetMethod = "/kv.v1.Kv/Get", PutMethod = "/kv.v1.Kv/Put";

    private static KvClient NewClient(FakeKvCluster cluster, int retries, params string[] seeds) =>
        new(seeds, new KvClientOptions
        {
            PerCallTimeout = TimeSpan.FromMilliseconds(200),
            OverallDeadline = TimeSpan.FromSeconds(10),
            RetryAttemptsMax = retries,
            RetryBackoff = TimeSpan.Zero,
            RetryBackoffMax = TimeSpan.Zero,
            HttpHandlerFactory = cluster.Handler,
        });

    [Fact(Timeout = 30_000)]
    public async Task Get_AtAHangingLeader_NoRetries_FailsWithDeadlineExceeded_NotACancellation()
    {
        var cluster = new FakeKvCluster(A) { Stall = (_, method) => method == GetMethod };
        await using var client = NewClient(cluster, retries: 0, A);

        var e = await Assert.ThrowsAsync<KvException>(() => client.GetAsync("k"));

        Assert.Equal(KvErrorCode.DeadlineExceeded, e.Code);
        Assert.Contains("PerCallTimeout", e.Message);
        Assert.False(e.WriteMayHaveApplied);
    }

    [Fact(Timeout = 30_000)]
    public async Task Put_AtAHangingLeader_NoRetries_FailsWithDeadlineExceeded_AndMayHaveApplied()
    {
        var cluster = new FakeKvCluster(A) { Stall = (_, method) => method == PutMethod };
        await using var client = NewClient(cluster, retries: 0, A);

        var e = await Assert.ThrowsAsync<KvException>(() => client.PutAsync("k", "v"));

        Assert.Equal(KvErrorCode.DeadlineExceeded, e.Code);
        Assert.True(e.WriteMayHaveApplied);
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_FirstNodeHangs_TheReadTimesOutThere_AndIsServedByTheNext()
    {
        var cluster = new FakeKvCluster(A, B) { Stall = (endpoint, method) => endpoint == A && method == GetMethod, LeaderOf = _ => B };
        cluster.Seed("k", "v");
        await using var client = NewClient(cluster, retries: 3, A, B);

        Assert.Equal("v", await client.GetStringAsync("k"));
        Assert.True(cluster.AttemptsAt(A) >= 1, "the first attempt goes to the first seed, which hangs");
    }

    [Fact(Timeout = 30_000)]
    public async Task Get_CancelledByTheCaller_IsAnOperationCanceledException()
    {
        var cluster = new FakeKvCluster(A) { Stall = (_, method) => method == GetMethod };
        await using var client = new KvClient([A], new KvClientOptions { HttpHandlerFactory = cluster.Handler });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", cts.Token));
    }
}
