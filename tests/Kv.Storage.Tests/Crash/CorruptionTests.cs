using Kv.Paxos;
using Kv.Storage.Paxos;
using RocksDbSharp;
using Xunit.Abstractions;

namespace Kv.Storage.Tests.Crash;

/// <summary>Damaged bytes on disk surface as <see cref="StorageCorruptionException"/> naming what was read — never as wrong data.</summary>
public sealed class CorruptionTests(ITestOutputHelper output)
{
    private static LogEntry Entry(long slot) =>
        new(slot, new Ballot(1, 1), SlotValue.OfCommands([new Command(1, slot, new byte[200])]), Chosen: true);

    private static void Persist(NodeStore store, long groupId, Ready ready)
    {
        using var batch = new WriteBatch();
        new PaxosStateStore(store).AddToBatch(batch, groupId, ready);
        store.Db.Write(batch, store.SyncWrite);
    }

    [Fact]
    public void FlippedByteInAnSstDataBlock_IsStorageCorruptionNamingTheGroup()
    {
        using var directory = new ScratchDirectory("corrupt-sst");
        using (var store = NodeStore.Open(directory.Path))
        {
            Persist(store, 7, new Ready
            {
                HardState = new HardState(new Ballot(1, 1), 0),
                Entries = [.. Enumerable.Range(0, 300).Select(s => Entry(s))],
            });
            store.FlushAll();
        }
        // Only the paxos column family holds data, so there is one SST file; its data blocks start at offset 0.
        string sst = Assert.Single(Directory.GetFiles(directory.Path, "*.sst"));
        FlipByte(sst, 4000);

        var e = Assert.Throws<StorageCorruptionException>(() =>
        {
            using var store = NodeStore.Open(directory.Path);
            new PaxosStateStore(store).Load(7);
        });
        output.WriteLine(e.Message);
        Assert.Contains("group 7", e.Message);
    }

    [Fact]
    public void CorruptedLogEntryValue_FailsItsCrcNamingGroupAndSlot()
    {
        using var directory = new ScratchDirectory("corrupt-crc");
        using var store = NodeStore.Open(directory.Path);
        Persist(store, 7, new Ready { HardState = new HardState(new Ballot(1, 1), 0), Entries = [.. Enumerable.Range(0, 10).Select(s => Entry(s))] });
        byte[] key = PaxosKeys.LogEntry(7, 4);
        byte[] value = store.Db.Get(key, store.Paxos);
        value[value.Length / 2] ^= 0x10;
        store.Db.Put(key, value, store.Paxos, store.SyncWrite);

        var e = Assert.Throws<StorageCorruptionException>(() => new PaxosStateStore(store).Load(7));
        Assert.Contains("group 7", e.Message);
        Assert.Contains("slot 4", e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void CorruptedHardState_FailsItsCrcNamingTheHardState()
    {
        using var directory = new ScratchDirectory("corrupt-crc");
        using var store = NodeStore.Open(directory.Path);
        Persist(store, 3, new Ready { HardState = new HardState(new Ballot(5, 2), 9) });
        byte[] key = PaxosKeys.HardState(3);
        byte[] value = store.Db.Get(key, store.Paxos);
        value[2] ^= 0x01;
        store.Db.Put(key, value, store.Paxos, store.SyncWrite);

        var e = Assert.Throws<StorageCorruptionException>(() => new PaxosStateStore(store).Load(3));
        Assert.Contains("group 3", e.Message);
        Assert.Contains("hard state", e.Message);
    }

    [Fact]
    public void LogEntryCopiedUnderAnotherSlotsKey_IsDetected()
    {
        using var directory = new ScratchDirectory("corrupt-crc");
        using var store = NodeStore.Open(directory.Path);
        Persist(store, 7, new Ready { Entries = [Entry(1), Entry(2)] });
        store.Db.Put(PaxosKeys.LogEntry(7, 2), store.Db.Get(PaxosKeys.LogEntry(7, 1), store.Paxos), store.Paxos, store.SyncWrite);

        var e = Assert.Throws<StorageCorruptionException>(() => new PaxosStateStore(store).Load(7));
        Assert.Contains("slot 2", e.Message);
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        Assert.True(file.Length > offset, $"{path} has only {file.Length} bytes");
        file.Position = offset;
        int original = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(original ^ 0xFF));
    }
}
