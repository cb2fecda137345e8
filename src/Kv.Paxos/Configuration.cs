namespace Kv.Paxos;

/// <summary>
/// The members of a Paxos group: voters form quorums; learners receive chosen values but never vote.
/// A configuration chosen at slot <c>s</c> governs slots from <c>s + α</c> on (see <see cref="ConfigHistory"/>).
/// </summary>
public sealed class Configuration : IEquatable<Configuration>
{
    /// <summary>Creates a configuration; voters and learners must be disjoint and voters non-empty.</summary>
    public Configuration(IEnumerable<int> voters, IEnumerable<int>? learners = null)
    {
        Voters = voters.Distinct().Order().ToArray();
        Learners = (learners ?? []).Distinct().Order().ToArray();
        if (Voters.Count == 0) throw new ArgumentException("A configuration needs at least one voter.", nameof(voters));
        if (Voters.Any(v => v <= 0) || Learners.Any(l => l <= 0))
            throw new ArgumentException("Replica ids are positive.", nameof(voters));
        if (Voters.Intersect(Learners).Any())
            throw new ArgumentException("A replica is either a voter or a learner, not both.", nameof(learners));
    }

    /// <summary>Voting replica ids, ascending.</summary>
    public IReadOnlyList<int> Voters { get; }

    /// <summary>Non-voting replica ids, ascending.</summary>
    public IReadOnlyList<int> Learners { get; }

    /// <summary>How many voters make a majority.</summary>
    public int QuorumSize => Voters.Count / 2 + 1;

    /// <summary>Whether <paramref name="replicaId"/> votes in this configuration.</summary>
    public bool IsVoter(int replicaId)
    {
        foreach (int v in Voters) if (v == replicaId) return true;
        return false;
    }

    /// <summary>Whether <paramref name="replicaId"/> is a learner in this configuration.</summary>
    public bool IsLearner(int replicaId)
    {
        foreach (int l in Learners) if (l == replicaId) return true;
        return false;
    }

    /// <summary>Every member, voters first.</summary>
    public IEnumerable<int> Members => Voters.Concat(Learners);

    /// <summary>Counts how many of <paramref name="replicas"/> are voters here and compares with the quorum size.</summary>
    public bool IsQuorum(IEnumerable<int> replicas) => replicas.Distinct().Count(IsVoter) >= QuorumSize;

    /// <summary>Applies one membership change, returning the new configuration.</summary>
    public Configuration Apply(MembershipChange change) => change.Kind switch
    {
        MembershipChangeKind.AddLearner when !IsVoter(change.ReplicaId) && !IsLearner(change.ReplicaId) =>
            new Configuration(Voters, Learners.Append(change.ReplicaId)),
        MembershipChangeKind.PromoteLearner when IsLearner(change.ReplicaId) =>
            new Configuration(Voters.Append(change.ReplicaId), Learners.Where(l => l != change.ReplicaId)),
        MembershipChangeKind.Remove when IsLearner(change.ReplicaId) =>
            new Configuration(Voters, Learners.Where(l => l != change.ReplicaId)),
        MembershipChangeKind.Remove when IsVoter(change.ReplicaId) && Voters.Count > 1 =>
            new Configuration(Voters.Where(v => v != change.ReplicaId), Learners),
        _ => this, // An inapplicable change (already applied, unknown replica) is a no-op, so replay is idempotent.
    };

    /// <inheritdoc />
    public bool Equals(Configuration? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Configuration);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int v in Voters) hash.Add(v);
        hash.Add(-1);
        foreach (int l in Learners) hash.Add(l);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"voters[{string.Join(",", Voters)}]" + (Learners.Count > 0 ? $" learners[{string.Join(",", Learners)}]" : "");
}

/// <summary>The kinds of single-step membership change.</summary>
public enum MembershipChangeKind
{
    /// <summary>Adds a non-voting replica that catches up.</summary>
    AddLearner,
    /// <summary>Makes a caught-up learner a voter.</summary>
    PromoteLearner,
    /// <summary>Removes a voter or a learner.</summary>
    Remove,
}

/// <summary>One membership change, carried through the log as a slot value.</summary>
public readonly record struct MembershipChange(MembershipChangeKind Kind, int ReplicaId);
