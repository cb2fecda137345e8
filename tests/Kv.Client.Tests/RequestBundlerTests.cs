using Grpc.Core;
using Kv.Client.Tests.Fakes;

namespace Kv.Client.Tests;

/// <summary>
/// Bundling against a <see cref="FakeKvCluster"/>: requests that find their node's call slots taken wait and leave
/// together in one Bundle call, each keeping its own outcome; below the limit, and with bundling off, each is its own call.
/// </summary>
public sealed class RequestBundlerTests
{
    private const string A = "http://a.fake:1";

    private static (FakeKvCluster Cluster, TaskCompletionSource Release) HeldCluster()
    {
        var cluster = new FakeKvCluster(A);
        cluster.Ranges = [cluster.Range(1, "", "")];
        cluster.LeaderOf = _ => A;
        // The first Put call is held until the test releases it: it takes the node's only call slot.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int puts = 0;
        cluster.BeforeServe = (_, method) => method == "/kv.v1.Kv/Put" && Interlocked.Increment(ref puts) == 1 ? release.Task : Task.CompletedTask;
        return (cluster, release);
    }

    private static KvClient NewClient(FakeKvCluster cluster, int callsInFlight) => new(cluster.Endpoints, new KvClientOptions
    {
        BundleCallsInFlight = callsInFlight,
        WriteLanes = 64,
        RetryBackoff = TimeSpan.Zero,
        RetryBackoffMax = TimeSpan.Zero,
        HttpHandlerFactory = cluster.Handler,
    });

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition()) await Task.Delay(5, timeout.Token);
    }

    private static int Waiting(KvClient client) => client.Router.Endpoint(A).Bundler!.Waiting;

    [Fact(Timeout = 30_000)]
    public async Task RequestsThatFindTheSlotsTaken_LeaveTogetherInOneBundle_EachWithItsOwnAnswer()
    {
        var (cluster, release) = HeldCluster();
        await using var client = NewClient(cluster, callsInFlight: 1);
        var first = client.PutAsync("k0", "v0");
        await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);
        var rest = Enumerable.Range(1, 5).Select(i => client.PutAsync($"k{i}", $"v{i}")).ToList();
        await WaitUntilAsync(() => Waiting(client) == 5);
        Assert.Empty(cluster.Bundles); // nothing leaves while the slot is taken

        release.SetResult();
        var versions = await Task.WhenAll(rest.Prepend(first));

        Assert.Equal([(A, 5)], cluster.Bundles);
        Assert.Equal(6, versions.Distinct().Count());
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(1, cluster.AppliedCount($"k{i}"));
            Assert.Equal($"v{i}", await client.GetStringAsync($"k{i}"));
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AFailedRequestInABundle_FailsAlone()
    {
        var (cluster, release) = HeldCluster();
        cluster.FailPut = key => key == "bad" ? FakeKvCluster.Error(StatusCode.InvalidArgument, "value: too large", new Kv.Proto.V1.InvalidArgument { Field = "value", Reason = "too large" }) : null;
        await using var client = NewClient(cluster, callsInFlight: 1);
        var first = client.PutAsync("k0", "v0");
        await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);
        var good = client.PutAsync("good", "1");
        var bad = client.PutAsync("bad", "2");
        await WaitUntilAsync(() => Waiting(client) == 2);

        release.SetResult();

        await first;
        await good;
        var error = await Assert.ThrowsAnyAsync<KvException>(() => bad);
        Assert.Equal(KvErrorCode.InvalidArgument, error.Code);
        Assert.Contains("too large", error.Message);
        Assert.Equal([(A, 2)], cluster.Bundles);
        Assert.Equal(1, cluster.AppliedCount("good"));
        Assert.Equal(0, cluster.AppliedCount("bad"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ARequestCancelledWhileWaiting_FailsAtOnce_AndIsNotSent()
    {
        var (cluster, release) = HeldCluster();
        await using var client = NewClient(cluster, callsInFlight: 1);
        var first = client.PutAsync("k0", "v0");
        await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);
        using var cancel = new CancellationTokenSource();
        var cancelled = client.PutAsync("gone"u8.ToArray(), "x"u8.ToArray(), cancel.Token);
        var kept = client.PutAsync("kept", "y");
        await WaitUntilAsync(() => Waiting(client) == 2);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        release.SetResult();
        await first;
        await kept;

        Assert.Equal([(A, 1)], cluster.Bundles);
        Assert.Equal(0, cluster.AppliedCount("gone"));
        Assert.Equal(1, cluster.AppliedCount("kept"));
    }

    /// <summary>
    /// Driven on the bundler itself, so that the call holding the slot can have a later deadline than the waiting one
    /// (through the client, the held call starts first and its equal timeout would free the slot first).
    /// </summary>
    [Fact(Timeout = 30_000)]
    public async Task ARequestWaitingPastItsAttemptDeadline_FailsThen_NotWhenTheSlotFrees()
    {
        var (cluster, release) = HeldCluster();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(A, new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = cluster.Handler(new Uri(A)) });
        var bundler = new RequestBundler(new Kv.Proto.V1.Kv.KvClient(channel), new KvClientOptions { BundleCallsInFlight = 1 });
        static Kv.Proto.V1.PutRequest Put(string key) =>
            new() { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), Value = Google.Protobuf.ByteString.CopyFromUtf8("v") };
        var held = bundler.PutAsync(Put("k0"), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)));
        await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);

        var waiting = bundler.PutAsync(Put("late"), new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)));

        var error = await Assert.ThrowsAsync<RpcException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.False(held.IsCompleted); // it failed while the slot was still taken
        release.SetResult();
        await held;
        Assert.Empty(cluster.Bundles); // the late request was never sent
        Assert.Equal(0, cluster.AppliedCount("late"));
    }

    [Fact(Timeout = 30_000)]
    public async Task ANodeWithoutBundle_GetsEachWaitingRequestAsItsOwnCall()
    {
        var (cluster, release) = HeldCluster();
        cluster.BundleSupported = false;
        await using var client = NewClient(cluster, callsInFlight: 1);
        var first = client.PutAsync("k0", "v0");
        await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);
        var rest = Enumerable.Range(1, 3).Select(i => client.PutAsync($"k{i}", $"v{i}")).ToList();
        await WaitUntilAsync(() => Waiting(client) == 3);

        release.SetResult();
        await Task.WhenAll(rest.Prepend(first));

        Assert.Empty(cluster.Bundles);
        for (int i = 0; i < 4; i++) Assert.Equal(1, cluster.AppliedCount($"k{i}"));
        // One Bundle call, refused, then one Put call each; from then on the node is not offered bundles.
        Assert.Equal(1, cluster.CallsOf("Bundle"));
        Assert.Equal(4, cluster.CallsOf("Put"));
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.BeforeServe = (_, method) => method == "/kv.v1.Kv/Put" && cluster.CallsOf("Put") == 5 ? held.Task : Task.CompletedTask;
        var blocker = client.PutAsync("k5", "v5");
        await WaitUntilAsync(() => cluster.CallsOf("Put") == 5);
        await client.PutAsync("k6", "v6"); // the slot is taken, but the node does not bundle: it leaves at once
        held.SetResult();
        await blocker;
        Assert.Equal(1, cluster.CallsOf("Bundle"));
    }

    [Fact(Timeout = 30_000)]
    public async Task BelowTheLimit_AndWithBundlingOff_EveryRequestIsItsOwnCall()
    {
        foreach (int callsInFlight in new[] { 8, 0 })
        {
            var (cluster, release) = HeldCluster();
            await using var client = NewClient(cluster, callsInFlight);
            var first = client.PutAsync("k0", "v0");
            await WaitUntilAsync(() => cluster.AttemptsAt(A) >= 1);
            var rest = Enumerable.Range(1, 5).Select(i => client.PutAsync($"k{i}", $"v{i}")).ToList();
            await Task.WhenAll(rest); // they do not wait for the held call: 6 ≤ 8 slots, or no bundling at all

            release.SetResult();
            await first;
            Assert.Empty(cluster.Bundles);
            Assert.Equal(0, cluster.CallsOf("Bundle"));
            Assert.Equal(6, cluster.CallsOf("Put"));
        }
    }
}
