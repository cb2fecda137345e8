using Google.Protobuf;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Peers;

/// <summary>
/// Converts <see cref="RangeSnapshotChunk"/> to and from its wire form <c>RangeDataChunk</c>, field for field. The
/// checksum travels as it is and is checked by the receiver's <c>RangeDataOps.InstallAsync</c>, not here: mapping
/// only checks what the storage type cannot hold.
/// </summary>
internal static class RangeDataChunkMapper
{
    public static Wire.RangeDataChunk ToProto(RangeSnapshotChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var wire = new Wire.RangeDataChunk { Index = (uint)chunk.Index, IsLast = chunk.IsLast, Crc32C = chunk.Crc32c };
        foreach (var pair in chunk.Pairs)
        {
            // Wrap instead of copy: the pairs are fresh arrays from the iterator that nothing else holds or changes,
            // and a copy would double the memory of every chunk in flight.
            wire.Pairs.Add(new Wire.RangeDataPair
            {
                Key = UnsafeByteOperations.UnsafeWrap(pair.Key),
                Value = UnsafeByteOperations.UnsafeWrap(pair.Value),
            });
        }
        return wire;
    }

    /// <exception cref="InvalidDataException">The index does not fit a chunk index.</exception>
    public static RangeSnapshotChunk FromProto(Wire.RangeDataChunk wire)
    {
        ArgumentNullException.ThrowIfNull(wire);
        if (wire.Index > int.MaxValue)
            throw new InvalidDataException($"A range data chunk carried index {wire.Index}, above the largest chunk index.");
        var pairs = new KeyValuePair<byte[], byte[]>[wire.Pairs.Count];
        for (int i = 0; i < pairs.Length; i++)
            pairs[i] = new(wire.Pairs[i].Key.ToByteArray(), wire.Pairs[i].Value.ToByteArray());
        return new RangeSnapshotChunk((int)wire.Index, wire.IsLast, pairs, wire.Crc32C);
    }
}
