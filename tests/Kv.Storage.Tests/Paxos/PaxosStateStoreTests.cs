using Kv.Paxos;
using Kv.Storage.GroupCommit;
using Kv.Storage.Paxos;
using Kv.Storage.Tests.Crash;
using RocksDbSharp;
using Snapshot = Kv.Paxos.Snapshot;

namespace Kv.Storage.Tests.Paxos;

public sealed class PaxosStateStoreTests : IDisposable
{
    private static readonly Configuration ThreeVoters = new([1, 2, 3]);
    private readonly ScratchDirectory _directory = new("paxos-store");
    private readonly NodeStore _store;
    private readonly PaxosStateStore _paxos;

    public PaxosStateStoreTests()
    {
        _store = NodeStore.Open(_directory.Path);
        _paxos = new PaxosStateStore(_store);
    }

    public void Dispose()
    {
        _store.Dispose();
        _directory.Dispose();
    }

    private static LogEntry Entry(long slot, bool chosen = false) =>
        new(slot, new Ballot(2, 1), SlotValue.OfCommands([new Command(1, slot, new byte[] { (byte)slot })]), chosen);

    private void Persist(long groupId, Ready ready)
    {
        using var batch = new WriteBatch();
        _paxos.AddToBatch(batch, groupId, ready);
        _store.Db.Write(batch, _store.SyncWrite);
    }

    [Fact]
    public void Load_OfAnUnknownGroup_IsNull()
    {
        Persist(1, new Ready { HardState = new HardState(new Ballot(1, 1), 0) });
        Assert.Null(_paxos.Load(2));
        Assert.Null(_paxos.Load(0));
    }

    [Fact]
    public void Persist_ThenLoad_ReturnsHardStateSnapshotAndEntriesInSlotOrder()
    {
        var hardState = new HardState(new Ballot(3, 2), 2);
        Persist(5, new Ready { HardState = hardState, Snapshot = Snapshot.Genesis(ThreeVoters), Entries = [Entry(2), Entry(0), Entry(1)] });
        Persist(5, new Ready { Entries = [Entry(1, chosen: true), Entry(300)] });

        var state = _paxos.Load(5)!;
        Assert.Equal(hardState, state.HardState);
        Assert.Equal(ThreeVoters, state.Snapshot.Configurations.Single().Configuration);
        Assert.Equal([0L, 1, 2, 300], state.Entries.Select(e => e.Slot));
        Assert.True(state.Entries[1].Chosen); // the later write of slot 1 replaced the earlier one
        Assert.True(Entry(300).Value.ContentEquals(state.Entries[3].Value));
    }

    [Fact]
    public void Snapshot_DeletesTheGroupsEntriesBelowItsIndexOnly()
    {
        Persist(5, new Ready { Snapshot = Snapshot.Genesis(ThreeVoters), Entries = [.. Enumerable.Range(0, 10).Select(s => Entry(s))] });
        Persist(6, new Ready { Entries = [Entry(1), Entry(2)] });
        var snapshot = new Snapshot(7, [new ConfigHistoryEntry(0, -1, ThreeVoters)], new byte[] { 42 });
        Persist(5, new Ready { Snapshot = snapshot, Entries = [Entry(3), Entry(10)] });

        var state = _paxos.Load(5)!;
        Assert.Equal(7, state.Snapshot.Index);
        Assert.Equal([42], state.Snapshot.Data.ToArray());
        Assert.Equal([7L, 8, 9, 10], state.Entries.Select(e => e.Slot));
        // No entry below the index is left behind in RocksDB either (not merely filtered at load).
        Assert.Null(_store.Db.Get(PaxosKeys.LogEntry(5, 3), _store.Paxos));
        Assert.Equal([1L, 2], _paxos.Load(6)!.Entries.Select(e => e.Slot));
    }

    [Fact]
    public void DeleteGroup_RemovesOnlyThatGroup_AndListGroupsFollows()
    {
        foreach (long group in new long[] { 3, 1, 2, 256, long.MaxValue })
            Persist(group, new Ready { HardState = new HardState(new Ballot(1, 1), 0), Entries = [Entry(0)] });
        Assert.Equal([1L, 2, 3, 256, long.MaxValue], _paxos.ListGroups());

        using (var batch = new WriteBatch())
        {
            _paxos.DeleteGroup(batch, 2);
            _paxos.DeleteGroup(batch, long.MaxValue);
            _store.Db.Write(batch, _store.SyncWrite);
        }

        Assert.Null(_paxos.Load(2));
        Assert.NotNull(_paxos.Load(3));
        Assert.Equal([1L, 3, 256], _paxos.ListGroups());
    }

    [Fact]
    public void GroupWithoutSnapshot_LoadsLikeAJoiningReplica()
    {
        Persist(9, new Ready { Entries = [Entry(4)] });
        var state = _paxos.Load(9)!;
        Assert.Equal(new HardState(Ballot.Zero, 0), state.HardState);
        Assert.Equal(0, state.Snapshot.Index);
        Assert.Empty(state.Snapshot.Configurations);
        Assert.Single(state.Entries);
    }

    [Fact]
    public async Task PersistAsync_WritesThroughTheGroupCommitter()
    {
        await using var committer = new GroupCommitter(_store);
        var paxos = new PaxosStateStore(_store, committer);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(g =>
            paxos.PersistAsync(g, new Ready { HardState = new HardState(new Ballot(g + 1, 1), g), Entries = [Entry(g)] })));
        await paxos.PersistAsync(99, new Ready()); // nothing to persist: completes without a sync

        Assert.Equal(20, paxos.ListGroups().Count);
        Assert.Equal(new HardState(new Ballot(8, 1), 7), paxos.Load(7)!.HardState);
        Assert.Equal(20, committer.GetStats().Writes);
    }

    [Fact]
    public void StoreWithoutCommitter_RefusesPersistAsync() =>
        Assert.Throws<InvalidOperationException>(() => { _ = _paxos.PersistAsync(1, new Ready { Entries = [Entry(0)] }); });
}
