namespace Kv.Storage.Ranges;

/// <summary>
/// Checks a received chunk stream as it arrives: each chunk's CRC32C, indexes 0, 1, 2, … with nothing after
/// the last chunk, and keys strictly ascending inside the span. Any failure is a
/// <see cref="StorageCorruptionException"/> naming the range and the chunk.
/// </summary>
internal sealed class SnapshotChunkVerifier(EncodedSpan span)
{
    private int _expectedIndex;
    private bool _lastSeen;
    private byte[]? _previousKey;

    /// <summary>Totals of the chunks accepted so far.</summary>
    public RangeTransferStats Total { get; private set; }

    public void Accept(RangeSnapshotChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (_lastSeen)
            throw Corrupt(chunk.Index, "arrived after the last chunk");
        if (chunk.Index != _expectedIndex)
            throw Corrupt(chunk.Index, $"arrived where chunk {_expectedIndex} was expected");
        uint computed = RangeSnapshotChunk.ComputeCrc32c(chunk.Index, chunk.IsLast, chunk.Pairs);
        if (computed != chunk.Crc32c)
            throw Corrupt(chunk.Index, $"failed its CRC32C check (carried 0x{chunk.Crc32c:X8}, computed 0x{computed:X8})");
        var total = Total;
        foreach (var pair in chunk.Pairs)
        {
            if (!span.Contains(pair.Key))
                throw Corrupt(chunk.Index, $"holds key {Convert.ToHexString(pair.Key)} outside the range");
            if (_previousKey is not null && pair.Key.AsSpan().SequenceCompareTo(_previousKey) <= 0)
                throw Corrupt(chunk.Index, $"holds key {Convert.ToHexString(pair.Key)} out of order");
            _previousKey = pair.Key;
            total = total.Add(pair.Key.Length, pair.Value.Length);
        }
        Total = total;
        _lastSeen = chunk.IsLast;
        _expectedIndex++;
    }

    /// <summary>Throws unless the last chunk has been accepted.</summary>
    public void Complete()
    {
        if (!_lastSeen)
            throw new StorageCorruptionException(
                $"Snapshot of range {span.Span} ended after {_expectedIndex} chunk(s) without its last chunk.");
    }

    private StorageCorruptionException Corrupt(int index, string what) =>
        new($"Snapshot of range {span.Span}: chunk {index} {what}.");
}
