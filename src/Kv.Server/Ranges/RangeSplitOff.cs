using Kv.Proto.V1;

namespace Kv.Server.Ranges;

/// <summary>A range created by a split this replica applied; the host starts its replica once the batch is written.</summary>
/// <param name="Slot">The slot of the split in the left range's log (its configuration there is the new range's).</param>
/// <param name="Right">The new range's descriptor.</param>
/// <param name="GenesisState">The new range's genesis snapshot data (a <c>RangeSnapshotState</c>): identical on every replica.</param>
public sealed record RangeSplitOff(long Slot, RangeDescriptor Right, byte[] GenesisState);
