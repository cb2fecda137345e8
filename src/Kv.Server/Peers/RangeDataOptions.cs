namespace Kv.Server.Peers;

/// <summary>
/// The serving limits of <see cref="RangeDataService"/>. Optional in DI; the defaults apply without it.
/// </summary>
public sealed record RangeDataOptions
{
    /// <summary>Key and value bytes per chunk when the request gives no hint (as <c>RangeDataOps.ChunkBytesMax</c>).</summary>
    public int ChunkBytesDefault { get; init; } = 1024 * 1024;

    /// <summary>
    /// The smallest hint accepted; below it the request is INVALID_ARGUMENT. Tiny chunks would cost a message,
    /// a checksum and a write per pair.
    /// </summary>
    public int ChunkBytesMin { get; init; } = 4 * 1024;

    /// <summary>
    /// The largest hint accepted; above it the request is INVALID_ARGUMENT. Bounds the memory a chunk holds on
    /// both sides; a single pair larger than the chunk size still travels alone.
    /// </summary>
    public int ChunkBytesMax { get; init; } = 4 * 1024 * 1024;

    /// <summary>Throws unless 0 &lt; <see cref="ChunkBytesMin"/> ≤ <see cref="ChunkBytesDefault"/> ≤ <see cref="ChunkBytesMax"/>.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytesMin, 1, nameof(ChunkBytesMin));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytesDefault, ChunkBytesMin, nameof(ChunkBytesDefault));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytesMax, ChunkBytesDefault, nameof(ChunkBytesMax));
    }
}
