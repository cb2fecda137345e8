using System.Buffers.Binary;

namespace Kv.Storage.Mvcc;

/// <summary>
/// A transaction's identity as storage records it in a staged version: 16 bytes, opaque to storage. The all-zero
/// id is reserved as "no transaction" and is rejected by every operation that takes one.
/// </summary>
/// <param name="High">The first 8 bytes (big-endian on disk).</param>
/// <param name="Low">The last 8 bytes (big-endian on disk).</param>
public readonly record struct TxnId(ulong High, ulong Low)
{
    /// <summary>Bytes of a transaction id on disk.</summary>
    public const int Size = 16;

    /// <summary>The reserved all-zero id.</summary>
    public static readonly TxnId Empty;

    /// <summary>True for the reserved all-zero id.</summary>
    public bool IsEmpty => High == 0 && Low == 0;

    /// <summary>The id with the 16 bytes of <paramref name="guid"/> (in <see cref="Guid.ToByteArray()"/> order).</summary>
    public static TxnId FromGuid(Guid guid)
    {
        Span<byte> bytes = stackalloc byte[Size];
        guid.TryWriteBytes(bytes);
        return Read(bytes);
    }

    /// <summary>Writes the 16 bytes into <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    /// <summary>Reads an id written by <see cref="Write"/>.</summary>
    public static TxnId Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));

    /// <summary>32 lowercase hex digits.</summary>
    public override string ToString() => $"{High:x16}{Low:x16}";
}
