using System.Buffers.Binary;

namespace Kv.Storage.Paxos;

/// <summary>
/// Reads what <see cref="ValueWriter"/> wrote. Every read is bounds-checked and every count is checked against
/// the bytes left, so garbage can only end in <see cref="InvalidDataException"/>, never in a huge allocation.
/// </summary>
internal ref struct ValueReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Skips <paramref name="length"/> bytes and returns where they start.</summary>
    public int Skip(int length)
    {
        int start = _position;
        Take(length);
        return start;
    }

    /// <summary>Reads a count of items of at least <paramref name="itemBytesMin"/> bytes each.</summary>
    public int ReadCount(int itemBytesMin)
    {
        int count = ReadInt32();
        if (count < 0 || (long)count * itemBytesMin > Remaining)
            throw new InvalidDataException($"count {count} does not fit in the {Remaining} bytes left");
        return count;
    }

    public readonly void ExpectEnd()
    {
        if (Remaining != 0) throw new InvalidDataException($"{Remaining} unexpected bytes after the value");
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > Remaining)
            throw new InvalidDataException($"value truncated: needed {length} bytes at offset {_position}, {Remaining} left");
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }
}
