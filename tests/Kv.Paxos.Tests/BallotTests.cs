namespace Kv.Paxos.Tests;

public class BallotTests
{
    [Fact]
    public void Ballots_OrderByRoundThenReplica()
    {
        var ordered = new[] { Ballot.Zero, new Ballot(1, 1), new Ballot(1, 2), new Ballot(2, 1), new Ballot(2, 3), new Ballot(10, 1) };
        for (int i = 0; i < ordered.Length; i++)
            for (int j = 0; j < ordered.Length; j++)
                Assert.Equal(i.CompareTo(j), Math.Sign(ordered[i].CompareTo(ordered[j])));
        Assert.True(new Ballot(1, 2) > new Ballot(1, 1));
        Assert.True(new Ballot(2, 1) > new Ballot(1, 9));
        Assert.Equal(new Ballot(3, 7), new Ballot(2, 1).Next(7));
    }

    [Fact]
    public void SafeValue_IsTheValueOfTheHighestBallot_OrFreeWhenNoneAccepted()
    {
        var v = PaxosRules.SafeValue(new[] { (new Ballot(1, 1), "a"), (new Ballot(3, 2), "c"), (new Ballot(2, 3), "b") }, out bool constrained);
        Assert.True(constrained);
        Assert.Equal("c", v);
        PaxosRules.SafeValue(Array.Empty<(Ballot, string)>(), out constrained);
        Assert.False(constrained);
    }

    [Fact]
    public void Acceptor_PromisesAndAcceptsOnlyAtOrAboveItsPromise()
    {
        var promised = new Ballot(5, 2);
        Assert.False(PaxosRules.MayPromise(promised, new Ballot(5, 1)));
        Assert.True(PaxosRules.MayPromise(promised, promised));
        Assert.True(PaxosRules.MayPromise(promised, new Ballot(6, 1)));
        Assert.False(PaxosRules.MayAccept(promised, new Ballot(4, 9)));
        Assert.True(PaxosRules.MayAccept(promised, new Ballot(5, 2)));
    }
}
