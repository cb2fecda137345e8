namespace Kv.Paxos;

/// <summary>
/// The single-decree Paxos rules, as pure functions. <see cref="Replica"/> applies them per slot, and the
/// exhaustive model check in the tests explores every interleaving of exactly these functions.
/// See PAXOS.md §2.
/// </summary>
public static class PaxosRules
{
    /// <summary>
    /// Phase 1b: an acceptor may promise a ballot at least as high as the one it promised. Equal is allowed
    /// because a ballot has a single owner, so a repeated Prepare is the same proposer asking again.
    /// </summary>
    public static bool MayPromise(Ballot promised, Ballot incoming) => incoming >= promised;

    /// <summary>Phase 2b: an acceptor accepts in any ballot it has not promised to ignore.</summary>
    public static bool MayAccept(Ballot promised, Ballot incoming) => incoming >= promised;

    /// <summary>
    /// Phase 2a: the value a proposer must propose once a quorum has promised. It is the value accepted at the
    /// highest ballot among the promises; only when no promise reports an accepted value is the proposer free
    /// to choose (<paramref name="hasConstraint"/> is then false). Taking the maximum over a superset of a quorum
    /// is equally safe.
    /// </summary>
    public static TValue? SafeValue<TValue>(IEnumerable<(Ballot Ballot, TValue Value)> acceptedInPromises, out bool hasConstraint)
    {
        hasConstraint = false;
        Ballot best = Ballot.Zero;
        TValue? value = default;
        foreach (var (ballot, v) in acceptedInPromises)
        {
            if (!hasConstraint || ballot > best)
            {
                best = ballot;
                value = v;
                hasConstraint = true;
            }
        }
        return value;
    }
}
