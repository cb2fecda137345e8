using Kv.Paxos;
using RocksDbSharp;

namespace Kv.Storage.Paxos;

/// <summary>
/// The durable part of one <see cref="Ready"/>, encoded into the writes it becomes, in order. Encoding is
/// separated from adding to a batch so that writers encode on their own threads and the group-commit loop
/// only copies bytes into the shared batch.
/// </summary>
internal sealed class EncodedReady
{
    private readonly List<(byte[] Key, byte[] Value)> _puts = [];
    private (byte[] Start, byte[] End)? _logDeletion;

    private EncodedReady() { }

    /// <summary>Total bytes of keys and values.</summary>
    public long SizeBytes { get; private set; }

    public static EncodedReady Encode(long groupId, Ready ready)
    {
        var encoded = new EncodedReady();
        if (ready.HardState is { } hardState)
            encoded.Put(PaxosKeys.HardState(groupId), PaxosStateCodec.EncodeHardState(groupId, hardState));
        long logStart = 0;
        if (ready.Snapshot is { } snapshot)
        {
            encoded.Put(PaxosKeys.Snapshot(groupId), PaxosStateCodec.EncodeSnapshot(groupId, snapshot));
            // The snapshot replaces the log below its index; entries from its index on stay.
            logStart = snapshot.Index;
            encoded._logDeletion = (PaxosKeys.LogStart(groupId), PaxosKeys.LogEntry(groupId, snapshot.Index));
        }
        foreach (var entry in ready.Entries)
        {
            // An entry below a snapshot written in the same Ready would only be deleted again.
            if (entry.Slot < logStart) continue;
            encoded.Put(PaxosKeys.LogEntry(groupId, entry.Slot), PaxosStateCodec.EncodeLogEntry(groupId, entry));
        }
        return encoded;
    }

    /// <summary>Adds the writes to <paramref name="batch"/>: the range deletion before the entries it must not hit.</summary>
    public void AddTo(WriteBatch batch, ColumnFamilyHandle paxos)
    {
        if (_logDeletion is var (start, end))
            batch.DeleteRange(start, (ulong)start.Length, end, (ulong)end.Length, paxos);
        foreach (var (key, value) in _puts) batch.Put(key, value, paxos);
    }

    private void Put(byte[] key, byte[] value)
    {
        _puts.Add((key, value));
        SizeBytes += key.Length + value.Length;
    }
}
