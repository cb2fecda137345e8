using Grpc.Net.Client;
using Kv.Server.Peers;
using Kv.Storage;
using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;
using Xunit.Abstractions;
using static Kv.Server.Tests.Peers.RangeDataTestStore;

namespace Kv.Server.Tests.Peers;

/// <summary>
/// A replica fetches a range's data from a peer over RangeData.Fetch and installs it: the span is replaced exactly and
/// atomically, and every way the fetch can fail (refusal, corruption, truncation, a dropped connection,
/// cancellation, the serving node stopping) leaves the target as it was.
/// </summary>
public sealed class RangeDataTransferTests(ITestOutputHelper output) : IDisposable
{
    private const ulong RangeId = 7;
    private static readonly RangeSpan BToD = new(Bytes("b"), Bytes("d"));
    private static readonly TxnId Txn = new(1, 2);

    private readonly RangeDataTestStore _source = new();
    private readonly RangeDataTestStore _target = new();

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    /// <summary>Source: two versions of keys below, on and inside the span's bounds and above it, a tombstone and a staged version.</summary>
    private void FillSource()
    {
        string[] keys = ["a", "az", "b", "b\0x", "bb", "c", "cz", "d", "da", "z"];
        _source.Put("source", 100, keys);
        _source.Put("source", 200, keys);
        _source.Mvcc.Delete(Bytes("bb"), new Timestamp(300, 0));
        using var batch = new RocksDbSharp.WriteBatch();
        _source.Mvcc.Stage(batch, Bytes("c"), Txn, new Timestamp(400, 0), Bytes("staged-c"));
        _source.Mvcc.Write(batch);
    }

    /// <summary>Target: a stale copy of the span (older and newer versions, a key the source lacks, another staged version) and its own neighbours.</summary>
    private void FillTarget()
    {
        _target.Put("stale", 50, "b", "bq", "c");
        _target.Put("target", 10, "a", "d", "zz");
        _target.Store.FlushAll(); // part of the old data in SST files, part in the memtable
        _target.Put("stale", 500, "c");
        using var batch = new RocksDbSharp.WriteBatch();
        _target.Mvcc.Stage(batch, Bytes("cz"), new TxnId(9, 9), new Timestamp(450, 0), Bytes("stale-staged"));
        _target.Mvcc.Write(batch);
    }

    private Task<RangeDataTestServer> ServeAsync(RangeSpan hostedSpan, StreamFaultInterceptor? faults = null) =>
        RangeDataTestServer.StartAsync(_source.Store, new HostedRangesSource((RangeId, hostedSpan)), faults);

    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FetchAndInstall_ReplacesTheTargetSpanWithTheSourceSpan_AndKeepsEverythingOutside(bool unbounded)
    {
        var span = unbounded ? new RangeSpan(Bytes("b"), []) : BToD;
        FillSource();
        FillTarget();
        var outsideBefore = _target.Dump(span, inside: false);
        Assert.NotEmpty(outsideBefore);
        var progress = new RecordingProgress();
        await using var server = await ServeAsync(unbounded ? span : new RangeSpan(Bytes("a"), Bytes("m")));
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var stats = await RangeDataClient.FetchAndInstallAsync(channel, RangeId, span, _target.Ops, progress, chunkBytesMax: 128);

        var sourceSpan = _source.Dump(span);
        Assert.Equal(sourceSpan, _target.Dump(span));
        Assert.Equal(outsideBefore, _target.Dump(span, inside: false));
        Assert.Equal(sourceSpan.Count, stats.PairCount);
        Assert.True(progress.Reports.Count > 3, $"{progress.Reports.Count} chunks; small chunks should make several");
        Assert.Equal(stats, progress.Reports[^1]);
        // Read through MVCC: the source's values inside, the stale ones gone, the neighbours untouched.
        Assert.Equal("source@200:b", _target.Latest("b"));
        Assert.Equal("source@200:b\0x", _target.Latest("b\0x"));
        Assert.Null(_target.Latest("bb")); // the source's tombstone
        Assert.Null(_target.Latest("bq")); // only the stale copy had it
        Assert.Equal("source@200:c", _target.Latest("c")); // the stale copy's newer version is gone too
        Assert.True(_target.Mvcc.TryGetStaged(Bytes("c"), out var staged));
        Assert.Equal(Txn, staged.TxnId);
        Assert.False(_target.Mvcc.TryGetStaged(Bytes("cz"), out _));
        Assert.Equal("target@10:a", _target.Latest("a"));
        Assert.Equal(unbounded ? "source@200:d" : "target@10:d", _target.Latest("d"));
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAndInstall_OfAnEmptySourceSpan_EmptiesTheTargetSpan()
    {
        _source.Put("source", 100, "a", "e");
        FillTarget();
        var outsideBefore = _target.Dump(BToD, inside: false);
        await using var server = await ServeAsync(BToD);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var stats = await RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops);

        Assert.Equal(0, stats.PairCount);
        Assert.Empty(_target.Dump(BToD));
        Assert.Equal(outsideBefore, _target.DumpAll());
    }

    [Theory(Timeout = 30_000)]
    [InlineData(8UL, "b", "d", Grpc.Core.StatusCode.NotFound, "hosts no range 8")]
    [InlineData(RangeId, "b", "e", Grpc.Core.StatusCode.FailedPrecondition, "does not cover")]
    [InlineData(RangeId, "a", "c", Grpc.Core.StatusCode.FailedPrecondition, "does not cover")]
    public async Task AFetchTheNodeCannotServe_IsRefusedWithTheReason_AndTheTargetUnchanged(
        ulong rangeId, string start, string end, Grpc.Core.StatusCode expected, string reason)
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        var span = new RangeSpan(Bytes(start), Bytes(end));
        await using var server = await ServeAsync(BToD);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var error = await Assert.ThrowsAsync<RangeTransferException>(
            () => RangeDataClient.FetchAndInstallAsync(channel, rangeId, span, _target.Ops));

        output.WriteLine(error.Message);

        Assert.Equal(expected, error.PeerStatus);
        Assert.Contains(reason, error.Message);
        Assert.Contains($"range {rangeId} {span}", error.Message);
        Assert.Equal(before, _target.DumpAll());
    }

    [Fact(Timeout = 30_000)]
    public async Task ARangeThatLeavesTheNodeAsTheSnapshotIsTaken_IsRefused_BeforeAnyChunk()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        var source = new HostedRangesSource((RangeId, BToD)) { UnhostAfterChecks = 1 };
        await using var server = await RangeDataTestServer.StartAsync(_source.Store, source);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        var progress = new RecordingProgress();

        var error = await Assert.ThrowsAsync<RangeTransferException>(
            () => RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, progress));

        output.WriteLine(error.Message);

        Assert.Equal(Grpc.Core.StatusCode.NotFound, error.PeerStatus);
        Assert.Equal(2, source.Checks);
        Assert.Empty(progress.Reports);
        Assert.Equal(before, _target.DumpAll());
    }

    [Fact(Timeout = 30_000)]
    public async Task ATamperedChunk_IsRejectedNamingTheChunk_AndTheTargetUnchanged()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        await using var server = await ServeAsync(BToD, new StreamFaultInterceptor(StreamFaultKind.FlipBit, atChunk: 2));
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var error = await Assert.ThrowsAsync<RangeTransferException>(
            () => RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, chunkBytesMax: 128));

        output.WriteLine(error.Message);

        Assert.Null(error.PeerStatus);
        Assert.IsType<StorageCorruptionException>(error.InnerException);
        Assert.Contains("chunk 2 failed its CRC32C check", error.Message);
        Assert.Equal(before, _target.DumpAll());
    }

    [Fact(Timeout = 30_000)]
    public async Task AStreamThatEndsOkWithoutItsLastChunk_IsRejected_AndTheTargetUnchanged()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        await using var server = await ServeAsync(BToD, new StreamFaultInterceptor(StreamFaultKind.Truncate, atChunk: 2));
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var error = await Assert.ThrowsAsync<RangeTransferException>(
            () => RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, chunkBytesMax: 128));

        output.WriteLine(error.Message);

        Assert.Null(error.PeerStatus);
        Assert.Contains("ended after 2 chunk(s) without its last chunk", error.Message);
        Assert.Equal(before, _target.DumpAll());
    }

    [Fact(Timeout = 30_000)]
    public async Task AConnectionDroppedMidStream_FailsTheFetch_AndTheTargetUnchanged()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        var progress = new RecordingProgress();
        var faults = new StreamFaultInterceptor(StreamFaultKind.Hold, atChunk: 2);
        await using var server = await ServeAsync(BToD, faults);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var fetch = RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, progress, chunkBytesMax: 128);
        await faults.Holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await progress.Reached(2).WaitAsync(TimeSpan.FromSeconds(10)); // two chunks verified and staged
        faults.DropHeldCall();

        var error = await Assert.ThrowsAsync<RangeTransferException>(() => fetch);

        output.WriteLine(error.Message);
        Assert.NotNull(error.PeerStatus);
        Assert.NotEqual(Grpc.Core.StatusCode.OK, error.PeerStatus);
        Assert.IsType<Grpc.Core.RpcException>(error.InnerException);
        Assert.Equal(before, _target.DumpAll());
    }

    [Fact(Timeout = 30_000)]
    public async Task CancellingTheFetch_MidStream_ThrowsOperationCanceled_StopsTheServer_AndLeavesTheTargetUnchanged()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        var faults = new StreamFaultInterceptor(StreamFaultKind.Hold, atChunk: 2);
        await using var server = await ServeAsync(BToD, faults);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);
        using var cancel = new CancellationTokenSource();

        var fetch = RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, chunkBytesMax: 128, cancellationToken: cancel.Token);
        await faults.Holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch);

        output.WriteLine(error.Message);
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Equal(before, _target.DumpAll());
        var ended = await faults.HandlerEnded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(ended); // the handler was stopped, not finished
    }

    [Fact(Timeout = 30_000)]
    public async Task TheServingNodeStopping_MidStream_FailsTheFetchAsUnavailable_AndTheTargetUnchanged()
    {
        FillSource();
        FillTarget();
        var before = _target.DumpAll();
        var faults = new StreamFaultInterceptor(StreamFaultKind.Hold, atChunk: 1);
        await using var server = await ServeAsync(BToD, faults);
        using var channel = GrpcChannel.ForAddress(server.Endpoint);

        var fetch = RangeDataClient.FetchAndInstallAsync(channel, RangeId, BToD, _target.Ops, chunkBytesMax: 128);
        await faults.Holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await server.StopAsync();

        var error = await Assert.ThrowsAsync<RangeTransferException>(() => fetch);

        output.WriteLine(error.Message);
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, error.PeerStatus);
        Assert.Contains("stopping", error.Message);
        Assert.Equal(before, _target.DumpAll());
    }

    /// <summary>Records reports on the reporting thread (<see cref="Progress{T}"/> would post them later).</summary>
    private sealed class RecordingProgress : IProgress<RangeTransferStats>
    {
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

        public List<RangeTransferStats> Reports { get; } = [];

        public void Report(RangeTransferStats value)
        {
            lock (Reports)
            {
                Reports.Add(value);
                foreach (var waiter in _waiters.Where(w => Reports.Count >= w.Count)) waiter.Reached.TrySetResult();
            }
        }

        /// <summary>Completes once <paramref name="count"/> reports have arrived.</summary>
        public Task Reached(int count)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (Reports)
            {
                if (Reports.Count >= count) reached.TrySetResult();
                else _waiters.Add((count, reached));
            }
            return reached.Task;
        }
    }
}
