namespace Kv.Storage.Ranges;

/// <summary>
/// How much of a range has been exported or installed so far (as progress) or in total (as a result).
/// <see cref="DataBytes"/> counts raw key and value bytes, not file or message overhead.
/// </summary>
/// <param name="PairCount">Key/value pairs.</param>
/// <param name="DataBytes">Sum of key and value lengths.</param>
public readonly record struct RangeTransferStats(long PairCount, long DataBytes)
{
    /// <summary>These stats plus one pair of the given sizes.</summary>
    internal RangeTransferStats Add(int keyBytes, int valueBytes) => new(PairCount + 1, DataBytes + keyBytes + valueBytes);
}
