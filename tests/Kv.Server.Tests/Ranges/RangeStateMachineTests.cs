using Google.Protobuf;
using Kv.Paxos;
using Kv.Proto.V1;
using Kv.Server.Ranges;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using RocksDbSharp;
using SlotValue = Kv.Paxos.SlotValue;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Tests.Ranges;

public sealed class RangeStateMachineTests : IDisposable
{
    private static readonly KeySpan Span = new("a"u8.ToArray(), "m"u8.ToArray());
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kv-rsm-" + Guid.NewGuid().ToString("N"));
    private NodeStore _node;
    private MvccStore _mvcc;

    public RangeStateMachineTests()
    {
        _node = NodeStore.Open(_dir);
        _mvcc = new MvccStore(_node);
    }

    public void Dispose()
    {
        _mvcc.Dispose();
        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private RangeStateMachine NewMachine() => new(7, Span, _mvcc, new MetaStore(_node));

    private static Command Cmd(long client, long seq, long wall, Action<RangeCommand> fill)
    {
        var c = new RangeCommand { Timestamp = new Proto.V1.Timestamp { WallNanos = wall } };
        fill(c);
        return new Command(client, seq, c.ToByteArray());
    }

    private static Command Put(long client, long seq, long wall, string key, string value) =>
        Cmd(client, seq, wall, c => c.Put = new RangePut { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) });

    private IReadOnlyList<AppliedCommand> Apply(RangeStateMachine m, long slot, params Command[] commands)
    {
        using var batch = new WriteBatch();
        var results = m.Apply(batch, [new ChosenEntry(slot, SlotValue.OfCommands(commands))]);
        _node.Db.Write(batch, _node.SyncWrite);
        return results;
    }

    private string? Read(RangeStateMachine m, string key, long wall = long.MaxValue / 2)
    {
        var r = m.Read(System.Text.Encoding.UTF8.GetBytes(key), new StorageTimestamp(wall, 0));
        return r.HasValue ? System.Text.Encoding.UTF8.GetString(r.Value!) : null;
    }

    [Fact]
    public void Commands_ApplyAtTheirTimestamps_InSlotOrder()
    {
        var m = NewMachine();
        Apply(m, 0, Put(1, 1, 100, "b", "one"));
        Apply(m, 1, Put(1, 2, 200, "b", "two"), Cmd(1, 3, 300, c => c.Delete = new RangeDelete { Key = ByteString.CopyFromUtf8("b") }));
        Assert.Equal("one", Read(m, "b", 150));
        Assert.Equal("two", Read(m, "b", 250));
        Assert.Null(Read(m, "b"));
        Assert.Equal(2, m.AppliedUpTo);
        Assert.Throws<InvalidOperationException>(() => Apply(m, 5, Put(1, 4, 400, "b", "x")));
    }

    [Fact]
    public void RetriedWrite_IsAppliedOnce_AndAnsweredAsTheFirstTime_EvenAfterARestart()
    {
        var m = NewMachine();
        var first = Apply(m, 0, Put(9, 1, 100, "c", "v1")).Single();
        Assert.False(first.Duplicate);
        Apply(m, 1, Put(5, 1, 150, "c", "other"));
        var restarted = NewMachine(); // state reloaded from storage
        Assert.Equal(2, restarted.AppliedUpTo);
        var retry = Apply(restarted, 2, Put(9, 1, 200, "c", "v1")).Single();
        Assert.True(retry.Duplicate);
        Assert.Equal(first.Result, retry.Result);
        Assert.Equal("other", Read(restarted, "c")); // the retry did not overwrite the later write
    }

    [Fact]
    public void CompareAndSet_SeesEarlierWritesOfTheSameBatch()
    {
        var m = NewMachine();
        var results = Apply(m, 0,
            Put(1, 1, 100, "d", "x"),
            Cmd(1, 2, 200, c => c.CompareAndSet = new RangeCompareAndSet { Key = ByteString.CopyFromUtf8("d"), ExpectedValue = ByteString.CopyFromUtf8("x"), NewValue = ByteString.CopyFromUtf8("y") }),
            Cmd(1, 3, 300, c => c.CompareAndSet = new RangeCompareAndSet { Key = ByteString.CopyFromUtf8("d"), ExpectAbsent = true, NewValue = ByteString.CopyFromUtf8("z") }));
        Assert.True(results[1].Result.Succeeded);
        Assert.False(results[2].Result.Succeeded);
        Assert.Equal("y", results[2].Result.CurrentValue.ToStringUtf8());
        Assert.Equal("y", Read(m, "d"));
    }

    [Fact]
    public void KeyOutsideTheRange_IsRefused_AndMalformedCommandsAreRejectedAlike()
    {
        var m = NewMachine();
        var results = Apply(m, 0, Put(1, 1, 100, "z", "no"), new Command(1, 2, new byte[] { 0xFF, 0xFF, 0xFF }));
        Assert.False(results[0].Result.Succeeded);
        Assert.Contains("outside range 7", results[0].Result.Error);
        Assert.False(results[1].Result.Succeeded);
        Assert.Null(Read(m, "z"));
        Assert.Equal(1, m.AppliedUpTo);
    }

    [Fact]
    public void UnwrittenBatch_LeavesNoTrace_SoTheLogReplaysFromTheStoredAppliedIndex()
    {
        var m = NewMachine();
        Apply(m, 0, Put(1, 1, 100, "e", "kept"));
        using (var lost = new WriteBatch()) m.Apply(lost, [new ChosenEntry(1, SlotValue.OfCommands([Put(1, 2, 200, "e", "lost")]))]);
        var restarted = NewMachine(); // as after a crash before the batch was written
        Assert.Equal(1, restarted.AppliedUpTo);
        Assert.Equal("kept", Read(restarted, "e"));
        Apply(restarted, 1, Put(1, 2, 200, "e", "replayed"));
        Assert.Equal("replayed", Read(restarted, "e"));
    }

    [Fact]
    public void CommandWithAnOlderTimestamp_AppliesAboveTheLastOne_SoVersionsFollowTheLog()
    {
        var m = NewMachine();
        Apply(m, 0, Put(1, 1, 500, "f", "first"));
        var second = Apply(m, 1, Put(2, 1, 100, "f", "second")).Single(); // proposed by a leader whose clock lagged
        Assert.True(second.Result.NewVersion.WallNanos == 500 && second.Result.NewVersion.Logical == 1);
        Assert.Equal("second", Read(m, "f"));
        Assert.Equal(new StorageTimestamp(500, 1), NewMachine().LastAppliedTimestamp);
    }
}
