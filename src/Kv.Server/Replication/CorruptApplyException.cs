using Kv.Storage;

namespace Kv.Server.Replication;

/// <summary>Applying a range's chosen commands met corrupt data; the apply round is abandoned (never written).</summary>
internal sealed class CorruptApplyException(HostedRange range, StorageCorruptionException inner)
    : Exception($"Range {range.RangeId}: corrupt data while applying: {inner.Message}", inner)
{
    public HostedRange Range { get; } = range;
}
