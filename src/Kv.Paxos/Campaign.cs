namespace Kv.Paxos;

/// <summary>A candidate's election in progress: first a pre-vote, then Phase 1 for every slot from <see cref="FromSlot"/>.</summary>
internal sealed class Campaign
{
    public Campaign(Ballot ballot, long fromSlot, Configuration configuration, bool preVote, Ballot? transferFrom, long startedTick)
    {
        Ballot = ballot;
        FromSlot = fromSlot;
        Configuration = configuration;
        PreVote = preVote;
        TransferFrom = transferFrom;
        StartedTick = startedTick;
    }

    public Ballot Ballot { get; }
    public long FromSlot { get; }
    public Configuration Configuration { get; }
    public bool PreVote { get; set; }
    public Ballot? TransferFrom { get; }
    public long StartedTick { get; }
    public HashSet<int> PreVotes { get; } = [];
    public Dictionary<int, IReadOnlyList<LogEntry>> Promises { get; } = [];
}
