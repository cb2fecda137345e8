using Kv.Client;

namespace Kv.Load.Tests;

/// <summary>Which transfers the SDK stages itself, so that the load tool counts no coordinating node for them.</summary>
public class CommitPathTests
{
    [Theory]
    [InlineData(true, 2, KvCommitProtocol.Default, true)]
    [InlineData(true, 4, KvCommitProtocol.Paxos, true)]
    [InlineData(true, 1, KvCommitProtocol.Paxos, false)]      // one range: a coordinated single-range commit
    [InlineData(true, 2, KvCommitProtocol.TwoPhase, false)]   // 2PC always has a coordinator
    [InlineData(false, 2, KvCommitProtocol.Paxos, false)]     // --client-staging off
    public void A_transfer_is_staged_by_the_client_only_for_multi_range_paxos_with_staging_on(
        bool clientStaging, int rangesPerTxn, KvCommitProtocol protocol, bool staged) =>
        Assert.Equal(staged, TransferWorkload.StagedByClient(clientStaging, rangesPerTxn, protocol));
}
