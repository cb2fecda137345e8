using Google.Protobuf;
using Kv.Proto.V1;
using static Kv.Txn.Tests.RangeFixture;

namespace Kv.Txn.Tests;

/// <summary>
/// The range rules of pessimistic reads (docs/transactions.md §6): pending read locks taken before the commit, the
/// PENDING record that heartbeats keep alive, and the rule that keeps a pending lock from counting as a vote.
/// </summary>
public sealed class ReadLockTests : IDisposable
{
    private readonly RangeFixture _range = new();

    public void Dispose() => _range.Dispose();

    [Fact]
    public void PendingReadLock_KeepsWritersOut_AndTheCommitsStageMakesItOrdinary()
    {
        _range.PutCommitted("k", "old", 10);
        var reader = NewTxn();
        Assert.True(_range.Stage(LockOnly(reader, keys: ["k"])).Ok);
        Assert.True(Assert.Single(_range.Table.LocksOn("k"u8)).Pending);
        Assert.NotNull(_range.Table.BlockingPlainWrite("k"u8));

        var writer = NewTxn();
        var refused = _range.Stage(StageOf(writer, 20, writes: [("k", "new")]));
        Assert.False(refused.Ok);
        Assert.Equal(reader, refused.ConflictingLock.TxnId);

        // Its commit: the read validates (nothing could change it) and the lock becomes an ordinary read lock.
        Assert.True(_range.Stage(StageOf(reader, 30, writes: [("out", "v")], reads: [("k", 10)])).Ok);
        Assert.False(Assert.Single(_range.Table.LocksOn("k"u8)).Pending);
    }

    [Fact]
    public void LockOnly_IsRefusedByAnotherWriteLock_WithoutRememberingTheRefusal()
    {
        var writer = NewTxn();
        Assert.True(_range.Stage(StageOf(writer, 20, writes: [("k", "w")])).Ok);
        var reader = NewTxn();
        var blocked = _range.Stage(LockOnly(reader, keys: ["k"]));
        Assert.False(blocked.Ok);
        Assert.True(blocked.Retryable);
        Assert.Equal(writer, blocked.ConflictingLock.TxnId);

        _range.Resolve(writer, commit: true, 20, "k");
        // Sent again once the writer is done, it locks: the refusal was not remembered.
        Assert.True(_range.Stage(LockOnly(reader, keys: ["k"])).Ok);
    }

    [Fact]
    public void Prevent_DoesNotCountAPendingLockAsStaged_SoTheStageCanNeverApply()
    {
        // A recovery must not take a pessimistic read's lock for the commit's vote: the write staged with the commit
        // would then be lost from a transaction it declares committed.
        var txn = NewTxn();
        Assert.True(_range.Stage(LockOnly(txn, keys: ["k"])).Ok);
        var prevent = _range.Prevent(txn, "k");
        Assert.True(prevent.Ok);
        Assert.False(prevent.Staged);
        Assert.False(_range.Stage(StageOf(txn, 30, writes: [("k", "v")])).Ok);
        Assert.False(_range.Stage(LockOnly(txn, keys: ["other"])).Ok); // and it is aborted here for good
    }

    [Fact]
    public void LockedSpan_KeepsInsertsOut_AndItsCommitSkipsThePhantomCheck()
    {
        var txn = NewTxn();
        var locking = LockOnly(txn, keys: []);
        locking.SpanReads.Add(new TxnSpanRead { StartKey = ByteString.CopyFromUtf8("a"), EndKey = ByteString.CopyFromUtf8("m") });
        _range.PutCommitted("b", "before-the-lock", 25);
        Assert.True(_range.Stage(locking).Ok);
        Assert.False(_range.Stage(StageOf(NewTxn(), 30, writes: [("c", "phantom")])).Ok);

        // Read under the lock (at the newest version, above the read timestamp of 20): nothing changed since.
        Assert.True(_range.Stage(StageOf(txn, 40, writes: [("z", "v")], reads: [("b", 25)], spans: [("a", "m")], readSeconds: 20)).Ok);
        // Without the lock the same commit is refused: the version at 25 is newer than the read timestamp.
        var optimistic = NewTxn();
        Assert.False(_range.Stage(StageOf(optimistic, 41, spans: [("a", "m")], readSeconds: 20)).Ok);
    }

    [Fact]
    public void WriteIntent_IsRefusedByAnyOtherLock_AndOnceHeldKeepsEveryOtherTransactionOut()
    {
        var reader = NewTxn();
        Assert.True(_range.Stage(LockOnly(reader, keys: ["k"])).Ok);
        var txn = NewTxn();
        var blocked = _range.Stage(Intent(txn, "k"));
        Assert.False(blocked.Ok);
        Assert.Equal(reader, blocked.ConflictingLock.TxnId); // a shared lock refuses an intent

        _range.Resolve(reader, commit: false, 0, "k");
        Assert.True(_range.Stage(Intent(txn, "k")).Ok);
        var held = Assert.Single(_range.Table.LocksOn("k"u8));
        Assert.True(held.Exclusive && held.Pending && !held.Write);
        // Nobody else may read-lock it now: not a pessimistic read, not a commit's validation.
        Assert.False(_range.Stage(LockOnly(NewTxn(), keys: ["k"])).Ok);
        Assert.False(_range.Stage(StageOf(NewTxn(), 20, writes: [("other", "v")], reads: [("k", null)])).Ok);
        // Its own commit writes it.
        Assert.True(_range.Stage(StageOf(txn, 30, writes: [("k", "mine")])).Ok);
        Assert.True(Assert.Single(_range.Table.LocksOn("k"u8)).Write);
    }

    [Fact]
    public void Heartbeat_CreatesAPendingRecord_WhichTheManifestTurnsStaging()
    {
        var txn = NewTxn();
        Assert.Equal(TxnStatus.Pending, _range.Record(TxnRecordOp.Types.Kind.Heartbeat, txn).Record.Status);
        var manifest = new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Stage, TxnId = txn, HomeKey = ByteString.CopyFromUtf8("home"), CommitTimestamp = Wire(50) };
        _range.NowSeconds = 50;
        var staged = _range.Apply(b => _range.Table.ApplyRecord(b, manifest, _range.Now));
        Assert.True(staged.Ok);
        Assert.Equal(TxnStatus.Staging, staged.Record.Status);
        Assert.True(_range.Record(TxnRecordOp.Types.Kind.Heartbeat, txn).Ok); // a heartbeat during the commit changes nothing
        Assert.Equal(TxnStatus.Staging, _range.Table.RecordOf(txn)!.Status);
    }

    [Fact]
    public void RecoveryAbort_OfAPendingRecord_WaitsForItsHeartbeatsToStop_AndThenTheTransactionLearnsIt()
    {
        var txn = NewTxn();
        _range.NowSeconds = 45;
        _range.Record(TxnRecordOp.Types.Kind.Heartbeat, txn);
        // A recovery that judged it stale before its last heartbeat (at 45) leaves it alone.
        var early = AbortIfStale(txn, heartbeatBefore: 44);
        Assert.False(early.Ok);
        Assert.Equal(TxnStatus.Pending, early.Record.Status);
        _range.NowSeconds = 47;
        Assert.Equal(TxnStatus.Aborted, AbortIfStale(txn, heartbeatBefore: 46).Record.Status);
        var beat = _range.Record(TxnRecordOp.Types.Kind.Heartbeat, txn);
        Assert.False(beat.Ok);
        Assert.Equal(TxnStatus.Aborted, beat.Record.Status);
    }

    private TxnCommandResult AbortIfStale(ByteString txn, double heartbeatBefore) =>
        _range.Apply(b => _range.Table.ApplyRecord(b, new TxnRecordOp
        {
            Kind = TxnRecordOp.Types.Kind.Abort, TxnId = txn, HomeKey = ByteString.CopyFromUtf8("home"), OnlyIfAbsent = true,
            HeartbeatBefore = Wire(heartbeatBefore),
        }, _range.Now));

    private static TxnStage Intent(ByteString txn, string key)
    {
        var stage = LockOnly(txn, keys: []);
        stage.WriteIntents.Add(ByteString.CopyFromUtf8(key));
        return stage;
    }

    private static TxnStage LockOnly(ByteString txn, string[] keys)
    {
        var stage = new TxnStage { TxnId = txn, HomeKey = ByteString.CopyFromUtf8("home"), LockOnly = true, Priority = 1, Protocol = CommitProtocol.Paxos };
        foreach (var key in keys) stage.Reads.Add(new TxnReadDependency { Key = ByteString.CopyFromUtf8(key) });
        return stage;
    }
}
