namespace Kv.Paxos;

/// <summary>
/// A Paxos ballot: a round number made unique by the id of the replica that owns it.
/// Ballots are totally ordered by round, then by replica id, so two proposers never share one.
/// </summary>
public readonly record struct Ballot(long Round, int ReplicaId) : IComparable<Ballot>
{
    /// <summary>The ballot below every real ballot; nothing has been promised or accepted.</summary>
    public static readonly Ballot Zero = new(0, 0);

    /// <summary>True for every ballot a replica can actually own.</summary>
    public bool IsZero => Round == 0 && ReplicaId == 0;

    /// <summary>The smallest ballot owned by <paramref name="replicaId"/> that is above this one.</summary>
    public Ballot Next(int replicaId) => new(Round + 1, replicaId);

    /// <inheritdoc />
    public int CompareTo(Ballot other)
    {
        int byRound = Round.CompareTo(other.Round);
        return byRound != 0 ? byRound : ReplicaId.CompareTo(other.ReplicaId);
    }

    /// <summary>Orders ballots.</summary>
    public static bool operator <(Ballot a, Ballot b) => a.CompareTo(b) < 0;

    /// <summary>Orders ballots.</summary>
    public static bool operator >(Ballot a, Ballot b) => a.CompareTo(b) > 0;

    /// <summary>Orders ballots.</summary>
    public static bool operator <=(Ballot a, Ballot b) => a.CompareTo(b) <= 0;

    /// <summary>Orders ballots.</summary>
    public static bool operator >=(Ballot a, Ballot b) => a.CompareTo(b) >= 0;

    /// <summary>The larger of two ballots.</summary>
    public static Ballot Max(Ballot a, Ballot b) => a >= b ? a : b;

    /// <inheritdoc />
    public override string ToString() => $"{Round}.{ReplicaId}";
}
