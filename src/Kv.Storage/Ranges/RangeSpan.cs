namespace Kv.Storage.Ranges;

/// <summary>
/// The user keys of one range: <c>[Start, End)</c> in unsigned byte order. An empty <see cref="Start"/> is the
/// start of the key space; an empty <see cref="End"/> means "to the end of the key space". Equality compares
/// the bytes. <c>default</c> is the whole key space.
/// </summary>
public readonly record struct RangeSpan
{
    private readonly byte[]? _start;
    private readonly byte[]? _end;

    /// <summary>Creates a span, copying the keys; throws unless <paramref name="start"/> &lt; <paramref name="end"/> or the end is empty.</summary>
    public RangeSpan(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end)
    {
        if (!end.IsEmpty && start.SequenceCompareTo(end) >= 0)
            throw new ArgumentException(
                $"A range span needs start < end; got start {Format(start, "min")} and end {Format(end, "max")}.",
                nameof(end));
        _start = start.ToArray();
        _end = end.ToArray();
    }

    /// <summary>The whole key space.</summary>
    public static RangeSpan All => default;

    /// <summary>The first user key of the span (inclusive); empty = the start of the key space.</summary>
    public ReadOnlyMemory<byte> Start => _start ?? [];

    /// <summary>The first user key after the span (exclusive); empty = unbounded.</summary>
    public ReadOnlyMemory<byte> End => _end ?? [];

    /// <summary>True when the span runs to the end of the key space.</summary>
    public bool IsUnbounded => End.IsEmpty;

    /// <summary>True when <paramref name="userKey"/> lies in the span.</summary>
    public bool Contains(ReadOnlySpan<byte> userKey) =>
        userKey.SequenceCompareTo(Start.Span) >= 0 && (IsUnbounded || userKey.SequenceCompareTo(End.Span) < 0);

    /// <inheritdoc />
    public bool Equals(RangeSpan other) =>
        Start.Span.SequenceEqual(other.Start.Span) && End.Span.SequenceEqual(other.End.Span);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Start.Span);
        hash.Add(-1); // separates start from end so [ab, c) and [a, bc) hash differently more often
        hash.AddBytes(End.Span);
        return hash.ToHashCode();
    }

    /// <summary>Hex form for messages: <c>[6162, 63)</c>, <c>[min, 63)</c>, <c>[6162, max)</c>.</summary>
    public override string ToString() => $"[{Format(Start.Span, "min")}, {Format(End.Span, "max")})";

    private static string Format(ReadOnlySpan<byte> key, string whenEmpty) =>
        key.IsEmpty ? whenEmpty : Convert.ToHexString(key);
}
