using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Mvcc;
using static Kv.Txn.Tests.RangeFixture;

namespace Kv.Txn.Tests;

/// <summary>The rules a range applies to transaction commands (docs/transactions.md §2–§6), one replica, real RocksDB.</summary>
public sealed class RangeTxnTableTests : IDisposable
{
    private readonly RangeFixture _range = new();

    public void Dispose() => _range.Dispose();

    [Fact]
    public void Stage_HidesTheWrite_ThenCommitPublishesItAtTheCommitTimestamp()
    {
        _range.PutCommitted("k", "old", 10);
        var txn = NewTxn();
        Assert.True(_range.Stage(StageOf(txn, 20, writes: [("k", "new")], reads: [("k", 10)])).Ok);
        var during = _range.Read("k");
        Assert.Equal(MvccReadStatus.StagedVersionEncountered, during.Status);
        Assert.Equal("old", System.Text.Encoding.UTF8.GetString(during.Value!));
        Assert.Single(_range.Table.LocksOn("k"u8));

        Assert.True(_range.Resolve(txn, commit: true, 20, "k").Ok);
        var after = _range.Read("k");
        Assert.Equal("new", System.Text.Encoding.UTF8.GetString(after.Value!));
        Assert.Equal(At(20), after.VersionTimestamp);
        Assert.Empty(_range.Table.LocksOn("k"u8));
    }

    [Fact]
    public void Abort_RemovesTheStagedVersion_AndLeavesTheOldValue()
    {
        _range.PutCommitted("k", "old", 10);
        var txn = NewTxn();
        Assert.True(_range.Stage(StageOf(txn, 20, writes: [("k", null)])).Ok);
        Assert.True(_range.Resolve(txn, commit: false, 0, "k").Ok);
        Assert.Equal(MvccReadStatus.Value, _range.Read("k").Status);
        Assert.Equal(0, _range.Table.LockCount);
    }

    [Fact]
    public void Stage_IsRefused_WhenAnotherTransactionHoldsTheKey_AndTheRefusalOutlivesTheConflict()
    {
        var first = NewTxn();
        var second = NewTxn();
        Assert.True(_range.Stage(StageOf(first, 20, writes: [("k", "1")])).Ok);
        var refused = _range.Stage(StageOf(second, 21, writes: [("k", "2")], reads: [("other", null)]));
        Assert.False(refused.Ok);
        Assert.True(refused.Retryable);
        Assert.Equal(first, refused.ConflictingLock.TxnId);
        Assert.Empty(_range.Table.LocksOn("other"u8)); // all or nothing

        _range.Resolve(first, commit: false, 0, "k");
        // A late duplicate of the refused stage must not lock now that the key is free.
        Assert.False(_range.Stage(StageOf(second, 21, writes: [("k", "2")])).Ok);
        Assert.Empty(_range.Table.LocksOn("k"u8));
    }

    [Fact]
    public void ReadLocks_AreShared_ButBlockWriters()
    {
        var readerA = NewTxn();
        var readerB = NewTxn();
        Assert.True(_range.Stage(StageOf(readerA, 20, reads: [("k", null)])).Ok);
        Assert.True(_range.Stage(StageOf(readerB, 20, reads: [("k", null)])).Ok);
        Assert.Equal(2, _range.Table.LocksOn("k"u8).Count);
        Assert.False(_range.Stage(StageOf(NewTxn(), 21, writes: [("k", "x")])).Ok);
        Assert.NotNull(_range.Table.BlockingPlainWrite("k"u8));
    }

    [Fact]
    public void Stage_IsRefused_WhenAVersionItReadIsNoLongerTheNewest()
    {
        _range.PutCommitted("k", "v1", 10);
        _range.PutCommitted("k", "v2", 15);
        Assert.False(_range.Stage(StageOf(NewTxn(), 20, writes: [("w", "x")], reads: [("k", 10)])).Ok);
        Assert.True(_range.Stage(StageOf(NewTxn(), 20, writes: [("w", "x")], reads: [("k", 15)])).Ok);
    }

    [Fact]
    public void Stage_IsRefused_WhenItWouldWriteBelowANewerVersion_OrBelowACommittedReader()
    {
        _range.PutCommitted("k", "v", 30);
        Assert.False(_range.Stage(StageOf(NewTxn(), 20, writes: [("k", "x")])).Ok);

        var reader = NewTxn();
        Assert.True(_range.Stage(StageOf(reader, 50, reads: [("r", null)])).Ok);
        _range.Resolve(reader, commit: true, 50, "r");
        // A writer serialized after the reader must not slip a version in below the reader's commit.
        Assert.False(_range.Stage(StageOf(NewTxn(), 40, writes: [("r", "x")])).Ok);
        Assert.True(_range.Stage(StageOf(NewTxn(), 60, writes: [("r", "x")])).Ok);
    }

    [Fact]
    public void ScannedSpan_RefusesPhantoms_AndItsLockBlocksInsertsUntilResolved()
    {
        _range.PutCommitted("b", "1", 10);
        var clean = NewTxn();
        Assert.True(_range.Stage(StageOf(clean, 30, spans: [("a", "c")], readSeconds: 20)).Ok); // nothing newer than 20
        _range.Resolve(clean, commit: false, 0, "a");
        _range.PutCommitted("bb", "1", 25);
        var refused = _range.Stage(StageOf(NewTxn(), 30, spans: [("a", "c")], readSeconds: 20));
        Assert.False(refused.Ok);
        Assert.Contains("appeared", refused.Reason, StringComparison.Ordinal);

        var scanner = NewTxn();
        Assert.True(_range.Stage(StageOf(scanner, 40, spans: [("a", "c")], readSeconds: 30)).Ok);
        Assert.NotNull(_range.Table.BlockingPlainWrite("abc"u8));
        Assert.Null(_range.Table.BlockingPlainWrite("c"u8));
        Assert.False(_range.Stage(StageOf(NewTxn(), 41, writes: [("a1", "x")])).Ok);
        _range.Resolve(scanner, commit: true, 40, "a");
        Assert.Null(_range.Table.BlockingPlainWrite("abc"u8));
    }

    [Fact]
    public void Stage_IsRefused_WhenItArrivesLongAfterItsCommitTimestamp()
    {
        _range.NowSeconds = 1_000;
        Assert.False(_range.Stage(StageOf(NewTxn(), 1_000 - TxnLimits.StageAgeMax.TotalSeconds - 1, writes: [("k", "x")])).Ok);
        Assert.True(_range.Stage(StageOf(NewTxn(), 999, writes: [("k2", "x")])).Ok);
    }

    [Fact]
    public void Prevent_BeforeTheStage_MakesTheStageImpossible_AfterIt_ReportsItStaged()
    {
        var late = NewTxn();
        Assert.False(_range.Prevent(late, "k").Staged);
        Assert.False(_range.Stage(StageOf(late, 20, writes: [("k", "x")])).Ok);

        var early = NewTxn();
        Assert.True(_range.Stage(StageOf(early, 20, writes: [("j", "x")])).Ok);
        Assert.True(_range.Prevent(early, "j").Staged);
    }

    /// <summary>
    /// Every order of the operations a coordinator and recoveries may send — duplicated — ends with at most one of
    /// COMMIT and ABORT ever succeeding, and COMMIT only after STAGE.
    /// </summary>
    [Fact]
    public void Record_ExactlyOneOfCommitAndAbortIsEverChosen_InEveryOrder()
    {
        var ops = new[] { TxnRecordOp.Types.Kind.Stage, TxnRecordOp.Types.Kind.Commit, TxnRecordOp.Types.Kind.Abort, TxnRecordOp.Types.Kind.Stage, TxnRecordOp.Types.Kind.Abort };
        int orders = 0;
        foreach (var order in Permutations(ops))
        {
            var txn = NewTxn();
            bool committed = false, aborted = false, staged = false;
            foreach (var kind in order)
            {
                var result = _range.Record(kind, txn, commitSeconds: 999);
                if (kind == TxnRecordOp.Types.Kind.Stage && result.Ok && result.Record.Status == TxnStatus.Staging) staged = true;
                if (kind == TxnRecordOp.Types.Kind.Commit && result.Ok)
                {
                    Assert.True(staged, "COMMIT succeeded without a STAGING record");
                    committed = true;
                }
                if (kind == TxnRecordOp.Types.Kind.Abort && result.Ok) aborted = true;
            }
            Assert.False(committed && aborted, $"both decided in order {string.Join(",", order)}");
            orders++;
        }
        Assert.Equal(120, orders);
    }

    [Fact]
    public void State_SurvivesARestart()
    {
        var txn = NewTxn();
        Assert.True(_range.Stage(StageOf(txn, 20, writes: [("k", "v")], reads: [("r", null)], spans: [("s", "t")], readSeconds: 10)).Ok);
        Assert.True(_range.Record(TxnRecordOp.Types.Kind.Stage, txn, 20).Ok);
        _range.Restart();
        Assert.Equal(3, _range.Table.LockCount);
        Assert.Equal(TxnStatus.Staging, _range.Table.RecordOf(txn)!.Status);
        // The staged value is read back from storage to publish it.
        Assert.True(_range.Resolve(txn, commit: true, 20, "k", "r", "s").Ok);
        Assert.Equal("v", System.Text.Encoding.UTF8.GetString(_range.Read("k").Value!));
        Assert.Equal(0, _range.Table.LockCount);
    }

    [Fact]
    public void Split_MovesRightHalfRecordsAndLocks_AndCutsASpanLockInTwo()
    {
        var txn = NewTxn();
        Assert.True(_range.Stage(StageOf(txn, 20, writes: [("a", "1"), ("x", "2")], spans: [("b", "y")], readSeconds: 10)).Ok);
        _range.Apply(b => _range.Table.ApplyRecord(b, new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Stage, TxnId = txn, HomeKey = ByteString.CopyFromUtf8("x"), CommitTimestamp = Wire(20) }, _range.Now));
        var right = _range.Apply(b => _range.Table.SplitOff(b, "m"u8, 8, writeRight: true));
        Assert.Equal(2, right.Locks.Count); // x, and the span's half [m, y)
        Assert.Single(right.Records);
        Assert.Null(_range.Table.RecordOf(txn));
        Assert.NotNull(_range.Table.BlockingPlainWrite("c"u8));
        Assert.Null(_range.Table.BlockingPlainWrite("n"u8));
        var rightTable = _range.Other(8);
        Assert.NotNull(rightTable.BlockingPlainWrite("n"u8));
        Assert.Null(rightTable.BlockingPlainWrite("z"u8));
        Assert.NotNull(rightTable.RecordOf(txn));
    }

    [Fact]
    public void Expiry_ForgetsAbortedRecordsAndMarkers_ButKeepsACommittedRecord()
    {
        var aborted = NewTxn();
        var committed = NewTxn();
        _range.Record(TxnRecordOp.Types.Kind.Abort, aborted);
        _range.Record(TxnRecordOp.Types.Kind.Stage, committed, 999);
        _range.Record(TxnRecordOp.Types.Kind.Commit, committed);
        _range.NowSeconds += TxnLimits.Retention.TotalSeconds + 5;
        _range.Apply(b =>
        {
            _range.Table.Expire(b, _range.Now);
            return 0;
        });
        Assert.Null(_range.Table.RecordOf(aborted));
        Assert.Equal(TxnStatus.Committed, _range.Table.RecordOf(committed)!.Status);
    }

    [Fact]
    public void ClosedTimestamp_RefusesStagesAtOrBelowIt_AndSurvivesRestartAndSplit()
    {
        _range.Apply(b =>
        {
            _range.Table.Close(b, At(30));
            _range.Table.Close(b, At(20)); // never lowered
            return 0;
        });
        Assert.False(_range.Stage(StageOf(NewTxn(), 30, writes: [("k", "x")])).Ok);
        Assert.True(_range.Stage(StageOf(NewTxn(), 31, writes: [("j", "x")])).Ok);
        _range.Restart();
        Assert.Equal(At(30), _range.Table.Closed);
        var right = _range.Apply(b => _range.Table.SplitOff(b, "m"u8, 8, writeRight: true));
        Assert.Equal(At(30), Kv.Txn.TxnWire.ToStorage(right.Closed));
    }

    [Fact]
    public void SnapshotIsolation_FirstCommitterWins_ButReadsAreNotChecked()
    {
        _range.PutCommitted("w", "v", 10);
        _range.PutCommitted("r", "v", 10);
        var stale = StageOf(NewTxn(), 30, writes: [("w", "x")], readSeconds: 5);
        stale.SnapshotIsolation = true;
        Assert.False(_range.Stage(stale).Ok); // w was written at 10, after the snapshot at 5

        var skew = StageOf(NewTxn(), 30, writes: [("other", "x")], reads: [("r", 1)], readSeconds: 5);
        skew.SnapshotIsolation = true;
        skew.Reads.Clear(); // the coordinator sends no reads under snapshot isolation
        Assert.True(_range.Stage(skew).Ok);
        Assert.Empty(_range.Table.LocksOn("r"u8));
    }

    [Fact]
    public void StageWithManifest_RecordsStaging_OrDecidesAbortAtOnce_AndARecoveryAbortRefusesIt()
    {
        var ok = NewTxn();
        var stage = StageOf(ok, 20, writes: [("home", "v")]);
        stage.Manifest = new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Stage, TxnId = ok, HomeKey = ByteString.CopyFromUtf8("home"), CommitTimestamp = Wire(20) };
        Assert.True(_range.Stage(stage).Ok);
        Assert.Equal(TxnStatus.Staging, _range.Table.RecordOf(ok)!.Status);

        var refused = NewTxn();
        var conflicting = StageOf(refused, 21, writes: [("home", "w")]);
        conflicting.Manifest = new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Stage, TxnId = refused, HomeKey = ByteString.CopyFromUtf8("home"), CommitTimestamp = Wire(21) };
        Assert.False(_range.Stage(conflicting).Ok);
        Assert.Equal(TxnStatus.Aborted, _range.Table.RecordOf(refused)!.Status);

        var late = NewTxn();
        _range.Record(TxnRecordOp.Types.Kind.Abort, late); // a recovery found no record and aborted
        var arriving = StageOf(late, 22, writes: [("other", "x")]);
        arriving.Manifest = new TxnRecordOp { Kind = TxnRecordOp.Types.Kind.Stage, TxnId = late, HomeKey = ByteString.CopyFromUtf8("home"), CommitTimestamp = Wire(22) };
        Assert.False(_range.Stage(arriving).Ok);
        Assert.Empty(_range.Table.LocksOn("other"u8));

        // The coordinator publishes without a COMMIT record first; the record's range marks it committed and forgotten.
        var resolve = new TxnResolve { TxnId = ok, Commit = true, CommitTimestamp = Wire(20), ForgetHomeKey = ByteString.CopyFromUtf8("home") };
        resolve.Keys.Add(ByteString.CopyFromUtf8("home"));
        _range.Apply(b => _range.Table.Resolve(b, resolve, _range.Now, new NoData()).Result);
        var record = _range.Table.RecordOf(ok)!;
        Assert.Equal(TxnStatus.Committed, record.Status);
        Assert.True(record.Forgotten);
        Assert.Empty(record.Keys);
    }

    private sealed class NoData : Kv.Txn.Ranges.ITxnRangeData
    {
        public (bool Exists, Kv.Storage.Encoding.Timestamp Version) NewestVersion(ReadOnlySpan<byte> key) => (false, Kv.Storage.Encoding.Timestamp.Zero);

        public bool ChangedAfter(byte[] start, byte[]? end, Kv.Storage.Encoding.Timestamp after) => false;

        public void WriteCommitted(RocksDbSharp.WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, Kv.Storage.Encoding.Timestamp timestamp)
        {
        }
    }

    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (int i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest)) yield return [items[i], .. tail];
        }
    }
}
