namespace Kv.Storage.Mvcc;

/// <summary>
/// A span of user keys [<see cref="Start"/>, <see cref="End"/>): an empty start is the beginning of the key
/// space, a null end is its end. Spans of user keys are spans of encoded data keys (KeyEncoding), so every
/// operation over a span is one bounded RocksDB iteration.
/// </summary>
public readonly struct KeySpan
{
    /// <summary>Creates the span [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <exception cref="ArgumentException">When <paramref name="end"/> is not above <paramref name="start"/>.</exception>
    public KeySpan(byte[] start, byte[]? end)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (end is not null && end.AsSpan().SequenceCompareTo(start) <= 0)
            throw new ArgumentException(
                $"The span end {KeyText.Printable(end)} must be above its start {KeyText.Printable(start)}.", nameof(end));
        Start = start;
        End = end;
    }

    /// <summary>Every user key.</summary>
    public static KeySpan All => new([], null);

    /// <summary>The first user key of the span (inclusive); empty for the beginning of the key space.</summary>
    public byte[] Start { get; }

    /// <summary>The user key after the span (exclusive); null for the end of the key space.</summary>
    public byte[]? End { get; }

    /// <summary>True when <paramref name="userKey"/> lies in the span.</summary>
    public bool Contains(ReadOnlySpan<byte> userKey) =>
        userKey.SequenceCompareTo(Start) >= 0 && (End is null || userKey.SequenceCompareTo(End) < 0);

    /// <inheritdoc />
    public override string ToString() =>
        $"[{KeyText.Printable(Start)}, {(End is null ? "end" : KeyText.Printable(End))})";
}
