using Kv.Proto.V1;

namespace Kv.Server.Ranges;

/// <summary>A command's outcome after it was applied (or found to be a duplicate of an applied one).</summary>
/// <param name="Slot">The slot that carried it.</param>
/// <param name="ClientId">The client that sent it (0: no deduplication).</param>
/// <param name="Sequence">The client's sequence number.</param>
/// <param name="Result">What the state machine answered; for a retry, the original answer.</param>
/// <param name="Duplicate">Whether an earlier copy had already been applied.</param>
public sealed record AppliedCommand(long Slot, long ClientId, long Sequence, RangeCommandResult Result, bool Duplicate);
