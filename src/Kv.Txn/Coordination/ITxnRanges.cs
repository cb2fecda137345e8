using Kv.Proto.V1;

namespace Kv.Txn.Coordination;

/// <summary>
/// The replicated ranges as transactions use them: which range holds a key (as this node knows it now), and
/// proposing a command to a range through its Paxos log. The node implements it over its range directory and
/// proposer; tests may implement it in memory.
/// </summary>
public interface ITxnRanges
{
    /// <summary>The range that holds <paramref name="key"/> as far as this node knows.</summary>
    /// <exception cref="InvalidOperationException">No range is known for the key (the cluster is not initialised).</exception>
    ulong RangeOf(ReadOnlySpan<byte> key) => Locate(key).RangeId;

    /// <summary>The range that holds <paramref name="key"/> and its span (a null end: the end of the key space).</summary>
    /// <exception cref="InvalidOperationException">No range is known for the key.</exception>
    (ulong RangeId, byte[] Start, byte[]? End) Locate(ReadOnlySpan<byte> key);

    /// <summary>
    /// Proposes <paramref name="command"/> to the range's leader and completes with its result once it is chosen
    /// and applied. Transaction commands are idempotent, so the implementation may retry freely. A result whose
    /// <c>Error</c> says a key is outside the range means the range split: route again.
    /// </summary>
    Task<RangeCommandResult> ProposeAsync(ulong rangeId, RangeCommand command, CancellationToken cancellationToken);
}
