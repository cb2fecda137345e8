using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Txn.Coordination;
using Microsoft.Extensions.Logging.Abstractions;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Tests;

/// <summary>
/// Wound-wait between transactions that want the same key: an older one (smaller priority) refused by a younger one's
/// lock finishes the younger one before answering, so its retry finds the key free; a younger one never does that to
/// an older one. No other recovery runs here (its delay is an hour).
/// </summary>
// IAsyncLifetime, not IAsyncDisposable: xUnit 2 never calls a test class's DisposeAsync, and the ranges' RocksDB
// directory was left behind in the temp directory after every run.
public sealed class WoundWaitTests : IAsyncLifetime
{
    private readonly InMemoryRanges _ranges = new(seed: 1, faultRate: 0);
    private readonly TxnCoordinator _coordinator;

    public WoundWaitTests()
    {
        TxnCoordinator? coordinator = null;
        var decisions = new InMemoryDecisions(() => coordinator!);
        coordinator = new TxnCoordinator(1, _ranges, _ranges, decisions, decisions,
            new TxnCoordinatorOptions { RecoverAfter = TimeSpan.FromHours(1) }, NullLogger.Instance);
        _coordinator = coordinator;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        _ranges.Dispose();
    }

    [Fact(Timeout = 30_000)]
    public async Task OlderTransaction_WoundsAYoungerLockHolder_AndItsRetryCommits()
    {
        var young = await StageWithoutManifestAsync("k", priority: 2_000);
        var refused = await _coordinator.CommitAsync(await WriteAsync("k", priority: 1_000), default);
        Assert.Equal(CommitStatus.Conflict, refused.Status);
        Assert.Equal(young, refused.ConflictingTxn);
        Assert.Null(_ranges.LockOn("k")); // the younger one was finished (aborted: it had no manifest)

        var retry = await _coordinator.CommitAsync(await WriteAsync("k", priority: 1_000), default);
        Assert.Equal(CommitStatus.Committed, retry.Status);
    }

    [Fact(Timeout = 30_000)]
    public async Task YoungerTransaction_WaitsForAnOlderLockHolder()
    {
        var old = await StageWithoutManifestAsync("k", priority: 1_000);
        var refused = await _coordinator.CommitAsync(await WriteAsync("k", priority: 2_000), default);
        Assert.Equal(CommitStatus.Conflict, refused.Status);
        Assert.Equal(old, _ranges.LockOn("k")!.TxnId); // still held
    }

    /// <summary>A transaction whose coordinator staged one key and has not yet written its manifest (a slow one).</summary>
    private async Task<ByteString> StageWithoutManifestAsync(string key, long priority)
    {
        var txn = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
        var now = await _ranges.NowAboveAsync(StorageTimestamp.Zero, default);
        var stage = new TxnStage
        {
            TxnId = txn, HomeKey = ByteString.CopyFromUtf8(key), CommitTimestamp = TxnWire.ToWire(now), Priority = priority,
            ReadTimestamp = TxnWire.ToWire(now), Protocol = CommitProtocol.Paxos,
        };
        stage.Writes.Add(new TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("held") });
        var result = await _ranges.ProposeAsync(_ranges.Locate(System.Text.Encoding.UTF8.GetBytes(key)).RangeId, new RangeCommand { TxnStage = stage }, default);
        Assert.True(result.Succeeded);
        return txn;
    }

    private async Task<CommitTransactionRequest> WriteAsync(string key, long priority)
    {
        var now = await _ranges.NowAboveAsync(StorageTimestamp.Zero, default);
        var request = new CommitTransactionRequest
        {
            TxnId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()), ReadTimestamp = TxnWire.ToWire(now), Priority = priority,
        };
        request.Writes.Add(new TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("mine") });
        return request;
    }
}
