using Kv.Paxos;
using Kv.Storage.GroupCommit;
using RocksDbSharp;
using Snapshot = Kv.Paxos.Snapshot;

namespace Kv.Storage.Paxos;

/// <summary>
/// The Paxos durable state of every group on a node, in the <c>paxos</c> column family of a
/// <see cref="NodeStore"/> (layout: <see cref="PaxosKeys"/>, encoding: <see cref="PaxosStateCodec"/>).
/// It stores exactly what a <see cref="Ready"/> says and reads it back; it knows the shapes of the state,
/// none of the protocol's rules. Thread-safe; the Readies of one group must still be persisted one after
/// another (the order <see cref="Ready"/> prescribes), Readies of different groups may be concurrent.
/// </summary>
public sealed class PaxosStateStore
{
    private readonly NodeStore _store;
    private readonly GroupCommitter? _committer;

    /// <summary>Creates the store; <paramref name="committer"/> is needed only by <see cref="PersistAsync"/>.</summary>
    public PaxosStateStore(NodeStore store, GroupCommitter? committer = null)
    {
        _store = store;
        _committer = committer;
    }

    /// <summary>
    /// Adds the durable part of <paramref name="ready"/> to <paramref name="batch"/>: the hard state, the
    /// snapshot (deleting the group's log entries below its index) and the entries, each replacing what is
    /// stored for its slot. The caller writes the batch with <see cref="NodeStore.SyncWrite"/>.
    /// </summary>
    public void AddToBatch(WriteBatch batch, long groupId, Ready ready) =>
        EncodedReady.Encode(groupId, ready).AddTo(batch, _store.Paxos);

    /// <summary>
    /// Makes the durable part of <paramref name="ready"/> durable through the group committer: the returned task
    /// completes once the synced write that carries it has returned, and fails if that write failed. A Ready
    /// with nothing to write completes at once; one that need not be synced is synced anyway (harmless).
    /// </summary>
    public Task PersistAsync(long groupId, Ready ready, CancellationToken cancellationToken = default)
    {
        if (_committer is null)
            throw new InvalidOperationException("This PaxosStateStore was created without a GroupCommitter.");
        if (!ready.MustWrite) return Task.CompletedTask;
        var encoded = EncodedReady.Encode(groupId, ready);
        return _committer.CommitAsync(
            (encoded, _store.Paxos),
            static (batch, state) => state.encoded.AddTo(batch, state.Paxos),
            cancellationToken).AsTask();
    }

    /// <summary>Adds the deletion of everything stored for <paramref name="groupId"/> to <paramref name="batch"/>.</summary>
    public void DeleteGroup(WriteBatch batch, long groupId)
    {
        byte[] start = PaxosKeys.GroupStart(groupId), end = PaxosKeys.GroupEnd(groupId);
        batch.DeleteRange(start, (ulong)start.Length, end, (ulong)end.Length, _store.Paxos);
    }

    /// <summary>
    /// Reads back what is stored for <paramref name="groupId"/>, or null if nothing is. A group with entries but
    /// no hard state starts from <see cref="Ballot.Zero"/>; one without a snapshot gets an empty snapshot at index
    /// 0 without configurations (like <see cref="PersistentState.Joining"/>), so the genesis snapshot must be
    /// persisted when a group is created. Entries below the snapshot index are not returned.
    /// </summary>
    /// <exception cref="StorageCorruptionException">A value failed its checksum or RocksDB reported corruption;
    /// the message names the group and the slot, hard state or snapshot.</exception>
    public PersistentState? Load(long groupId)
    {
        byte[] start = PaxosKeys.GroupStart(groupId), end = PaxosKeys.GroupEnd(groupId);
        var readOptions = new ReadOptions().SetVerifyChecksums(true).SetIterateLowerBound(start).SetIterateUpperBound(end);
        HardState? hardState = null;
        Snapshot? snapshot = null;
        var entries = new List<LogEntry>();
        string position = "the start of the group";
        using (var iterator = _store.Db.NewIterator(_store.Paxos, readOptions))
        {
            try
            {
                for (iterator.Seek(start); iterator.Valid(); iterator.Next())
                {
                    byte[] key = iterator.Key();
                    position = Describe(groupId, key);
                    switch (key.Length == PaxosKeys.GroupKeyLength || key.Length == PaxosKeys.LogEntryKeyLength ? key[8] : (byte)0)
                    {
                        case PaxosKeys.HardStateTag when key.Length == PaxosKeys.GroupKeyLength:
                            hardState = PaxosStateCodec.DecodeHardState(groupId, iterator.Value());
                            break;
                        case PaxosKeys.SnapshotTag when key.Length == PaxosKeys.GroupKeyLength:
                            snapshot = PaxosStateCodec.DecodeSnapshot(groupId, iterator.Value());
                            break;
                        case PaxosKeys.LogEntryTag when key.Length == PaxosKeys.LogEntryKeyLength:
                            long slot = PaxosKeys.ReadSlot(key);
                            // Keys sort by tag, so the snapshot (if any) has been read before the first entry.
                            if (slot >= (snapshot?.Index ?? 0))
                                entries.Add(PaxosStateCodec.DecodeLogEntry(groupId, slot, iterator.Value()));
                            break;
                        default:
                            throw new StorageCorruptionException(
                                $"Paxos state of group {groupId} is corrupt: unexpected key {Convert.ToHexString(key)}");
                    }
                }
                Native.Instance.rocksdb_iter_get_error(iterator.Handle);
            }
            catch (RocksDbException e) when (IsCorruption(e))
            {
                throw new StorageCorruptionException(
                    $"Paxos state of group {groupId} is corrupt: RocksDB failed reading after {position}: {e.Message}", e);
            }
        }
        GC.KeepAlive(readOptions); // The iterator reads the bounds it points to until it is disposed.
        if (hardState is null && snapshot is null && entries.Count == 0) return null;
        return new PersistentState(
            hardState ?? new HardState(Ballot.Zero, 0),
            snapshot ?? new Snapshot(0, [], ReadOnlyMemory<byte>.Empty),
            entries);
    }

    /// <summary>The ids of every group with something stored, ascending.</summary>
    public IReadOnlyList<long> ListGroups()
    {
        var groups = new List<long>();
        using var iterator = _store.Db.NewIterator(_store.Paxos, _store.VerifiedReads);
        try
        {
            // One seek per group: past the group's last possible key straight to the next group's first.
            for (iterator.SeekToFirst(); iterator.Valid(); iterator.Seek(PaxosKeys.GroupEnd(groups[^1])))
            {
                if (!PaxosKeys.TryReadGroupId(iterator.GetKeySpan(), out long groupId))
                    throw new StorageCorruptionException(
                        $"The paxos column family holds a key that names no group: {Convert.ToHexString(iterator.Key())}");
                groups.Add(groupId);
            }
            Native.Instance.rocksdb_iter_get_error(iterator.Handle);
        }
        catch (RocksDbException e) when (IsCorruption(e))
        {
            string after = groups.Count > 0 ? $"group {groups[^1]}" : "the start";
            throw new StorageCorruptionException($"The paxos column family is corrupt after {after}: {e.Message}", e);
        }
        return groups;
    }

    private static bool IsCorruption(RocksDbException e) =>
        e.Message.Contains("Corruption", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("checksum", StringComparison.OrdinalIgnoreCase);

    private static string Describe(long groupId, byte[] key) =>
        key.Length == PaxosKeys.LogEntryKeyLength && key[8] == PaxosKeys.LogEntryTag
            ? $"slot {PaxosKeys.ReadSlot(key)}"
            : key.Length == PaxosKeys.GroupKeyLength && key[8] == PaxosKeys.HardStateTag ? "hard state"
            : key.Length == PaxosKeys.GroupKeyLength && key[8] == PaxosKeys.SnapshotTag ? "snapshot"
            : $"key {Convert.ToHexString(key)} of group {groupId}";
}
