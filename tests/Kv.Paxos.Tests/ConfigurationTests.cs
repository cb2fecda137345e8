namespace Kv.Paxos.Tests;

public class ConfigurationTests
{
    [Fact]
    public void Quorum_IsAMajorityOfVoters_LearnersDoNotCount()
    {
        var c = new Configuration([1, 2, 3, 4, 5], [6]);
        Assert.Equal(3, c.QuorumSize);
        Assert.True(c.IsQuorum([1, 2, 3]));
        Assert.False(c.IsQuorum([1, 2, 6]));
        Assert.False(c.IsQuorum([1, 1, 2]));
    }

    [Fact]
    public void Changes_AddLearnerPromoteRemove_AndInapplicableChangesAreNoOps()
    {
        var c = new Configuration([1, 2, 3]);
        var withLearner = c.Apply(new MembershipChange(MembershipChangeKind.AddLearner, 4));
        Assert.True(withLearner.IsLearner(4));
        var promoted = withLearner.Apply(new MembershipChange(MembershipChangeKind.PromoteLearner, 4));
        Assert.True(promoted.IsVoter(4));
        Assert.Equal(3, promoted.QuorumSize);
        var removed = promoted.Apply(new MembershipChange(MembershipChangeKind.Remove, 1));
        Assert.Equal([2, 3, 4], removed.Voters);
        Assert.Same(c, c.Apply(new MembershipChange(MembershipChangeKind.PromoteLearner, 9)));
        Assert.Throws<ArgumentException>(() => new Configuration([1], [1]));
        Assert.Throws<ArgumentException>(() => new Configuration([]));
    }

    [Fact]
    public void History_ChangeChosenAtSlotS_GovernsFromSPlusAlpha_AndSnapshotsKeepWhatTheyNeed()
    {
        var h = new ConfigHistory([new ConfigHistoryEntry(0, -1, new Configuration([1, 2, 3]))]);
        h.Record(10, new MembershipChange(MembershipChangeKind.AddLearner, 4), effectDelaySlots: 8);
        Assert.False(h.At(17).IsLearner(4));
        Assert.True(h.At(18).IsLearner(4));
        // A snapshot at 12 was taken after the change was chosen but before it took effect: it must carry both.
        Assert.Equal(2, h.ForSnapshot(12).Count);
        // At 20 the old configuration no longer governs anything the snapshot does not cover.
        Assert.Single(h.ForSnapshot(20));
        // A snapshot at 5 predates the change.
        Assert.Single(h.ForSnapshot(5));
        Assert.False(new ConfigHistory(h.ForSnapshot(5)).Latest.IsLearner(4));
    }
}
