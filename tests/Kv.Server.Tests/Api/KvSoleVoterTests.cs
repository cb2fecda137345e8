using Google.Protobuf;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>A single-node cluster as a node starts without peers: range 1 with voters [1] and nobody to talk to.</summary>
public sealed class KvSoleVoterTests
{
    // Kv.Paxos today: a leader that is its group's only voter marks each slot chosen as it proposes it
    // (ProposeSlot → TryChoose) but never advances its chosen prefix (only OnAccepted, the acceptor and catch-up
    // call AdvanceChosenPrefix), so nothing is ever applied and every write waits forever. With a learner, the
    // learner's Accepted replies advance it, which is why the other API tests run with one.
    [Fact(Timeout = 30_000)]
    public async Task SoleVoter_WithoutPeers_ServesWritesAndReads()
    {
        await using var server = await KvTestServer.StartAsync(KvTestTopology.SoleVoter);
        var put = await server.Client.PutAsync(
            new Wire.PutRequest { Key = ByteString.CopyFromUtf8("solo"), Value = ByteString.CopyFromUtf8("v") }, deadline: KvTestServer.Deadline(5));
        var get = await server.Client.GetAsync(new Wire.GetRequest { Key = ByteString.CopyFromUtf8("solo") }, deadline: KvTestServer.Deadline(5));
        Assert.Equal("v", get.Value.ToStringUtf8());
        Assert.Equal(put.Version, get.Version);
    }
}
