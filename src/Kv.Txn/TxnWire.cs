using Google.Protobuf;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Txn;

/// <summary>Conversions between the wire's timestamps and ids and storage's.</summary>
public static class TxnWire
{
    /// <summary>The storage timestamp of a wire one (unset: zero).</summary>
    public static StorageTimestamp ToStorage(Wire.Timestamp? t) => t is null ? StorageTimestamp.Zero : new(t.WallNanos, t.Logical);

    /// <summary>The wire timestamp of a storage one.</summary>
    public static Wire.Timestamp ToWire(StorageTimestamp t) => new() { WallNanos = t.WallNanos, Logical = t.Logical };

    /// <summary>The transaction id in 16 bytes; throws <see cref="ArgumentException"/> for any other length or all zeros.</summary>
    public static TxnId ToTxnId(ByteString id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length != TxnId.Size) throw new ArgumentException($"a transaction id has {TxnId.Size} bytes, not {id.Length}", nameof(id));
        var txn = TxnId.Read(id.Span);
        if (txn.IsEmpty) throw new ArgumentException("the all-zero transaction id is reserved", nameof(id));
        return txn;
    }

    /// <summary>The 16 bytes of <paramref name="id"/>.</summary>
    public static ByteString ToBytes(TxnId id)
    {
        var bytes = new byte[TxnId.Size];
        id.Write(bytes);
        return ByteString.CopyFrom(bytes);
    }

    /// <summary>A dictionary key for a byte string (keys and ids), ordinal.</summary>
    public static string Hex(ByteString bytes) => Convert.ToHexString(bytes.Span);

    /// <summary>A dictionary key for raw bytes.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);
}
