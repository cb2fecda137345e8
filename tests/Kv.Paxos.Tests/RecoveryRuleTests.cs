using Kv.Paxos.Tests.Harness;

namespace Kv.Paxos.Tests;

/// <summary>PAXOS.md §4: a new leader re-proposes, per slot, the value of the highest ballot among the promises, and fills gaps with no-ops.</summary>
public class RecoveryRuleTests
{
    private static SlotValue V(string s) => SlotValue.OfCommands([TestCluster.Cmd(1, s.Length, s)]);

    [Fact]
    public void NewLeader_ReproposesHighestBallotValuePerSlot_AndFillsGapsWithNoOps()
    {
        var r = new Replica(new ReplicaOptions { ReplicaId = 1 }, PersistentState.Bootstrap(new Configuration([1, 2, 3])), new Random(1));
        Prepare? prepare = null;
        for (int i = 0; i < 100 && prepare is null; i++)
        {
            r.Tick();
            prepare = r.TakeReady().Messages.OfType<Prepare>().FirstOrDefault();
        }
        Assert.NotNull(prepare);
        Assert.True(prepare!.PreVote);
        r.Step(new Promise(2, 1, prepare.Ballot, PreVote: true, Granted: true, Ballot.Zero, 0, [], 0, 0));
        var phase1 = r.TakeReady();
        Assert.Equal(prepare.Ballot, phase1.HardState!.Value.Promised); // its own promise is persisted before Prepares leave
        var real = phase1.Messages.OfType<Prepare>().First(p => !p.PreVote);

        var fromTwo = new List<LogEntry>
        {
            new(0, new Ballot(1, 2), V("old"), false),
            new(2, new Ballot(1, 2), V("z"), false),
        };
        r.Step(new Promise(2, 1, real.Ballot, false, true, real.Ballot, 0, fromTwo, 0, 0));
        Assert.True(r.IsLeader);
        var ready = r.TakeReady();
        var proposed = ready.Messages.OfType<Accept>().Where(a => a.To == 2).SelectMany(a => a.Slots).ToDictionary(s => s.Slot, s => s.Value);
        // With promises from {1, 2} (a quorum), slot 0 carries 2's value; slot 1 is a gap; slot 2 carries "z".
        Assert.True(proposed[0].ContentEquals(V("old")));
        Assert.Equal(SlotValueKind.NoOp, proposed[1].Kind);
        Assert.True(proposed[2].ContentEquals(V("z")));
    }

    [Fact]
    public void HigherBallotAmongThePromises_Wins()
    {
        // Replica 1 once promised ballot 5.1, so it campaigns above every ballot the promises report.
        var state = PersistentState.Bootstrap(new Configuration([1, 2, 3, 4, 5])) with { HardState = new HardState(new Ballot(5, 1), 0) };
        var r = new Replica(new ReplicaOptions { ReplicaId = 1 }, state, new Random(1));
        Prepare? prepare = null;
        for (int i = 0; i < 100 && prepare is null; i++)
        {
            r.Tick();
            prepare = r.TakeReady().Messages.OfType<Prepare>().FirstOrDefault();
        }
        r.Step(new Promise(2, 1, prepare!.Ballot, true, true, Ballot.Zero, 0, [], 0, 0));
        r.Step(new Promise(3, 1, prepare.Ballot, true, true, Ballot.Zero, 0, [], 0, 0));
        var real = r.TakeReady().Messages.OfType<Prepare>().First(p => !p.PreVote);
        r.Step(new Promise(2, 1, real.Ballot, false, true, real.Ballot, 0, [new(0, new Ballot(1, 2), V("low"), false)], 0, 0));
        r.Step(new Promise(3, 1, real.Ballot, false, true, real.Ballot, 0, [new(0, new Ballot(3, 3), V("high"), false)], 0, 0));
        Assert.True(r.IsLeader);
        var proposed = r.TakeReady().Messages.OfType<Accept>().First().Slots.Single(s => s.Slot == 0);
        Assert.True(proposed.Value.ContentEquals(V("high")));
    }

    [Fact]
    public void ValueAcceptedByAMinority_BeforeTheLeaderCrashed_IsKeptByTheNextLeader()
    {
        var c = new TestCluster(3);
        var first = c.ElectLeader();
        c.Run(3);
        int a = c.Up.First(id => id != first.Id), b = c.Up.Last(id => id != first.Id);
        long slot = first.ChosenPrefix;
        c.Blocked.Add((first.Id, b));
        c.Blocked.Add((a, first.Id)); // a accepts, but the leader never hears it: not chosen as far as anyone knows
        first.Propose(TestCluster.Cmd(5, 1, "kept"));
        c.Deliver();
        Assert.Equal(slot, first.ChosenPrefix);
        c.Crash(first.Id);
        c.Heal();
        var second = c.ElectLeader();
        c.Run(5);
        var applied = c.Applied[second.Id].Single(e => e.Slot == slot);
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(applied.Value.Commands.Single().Payload.Span));
        Assert.All(new[] { a, b }, id => Assert.Contains(c.Applied[id], e => e.Slot == slot));
    }
}
