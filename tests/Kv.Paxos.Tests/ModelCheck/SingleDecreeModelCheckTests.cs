using Xunit.Abstractions;

namespace Kv.Paxos.Tests.ModelCheck;

/// <summary>
/// Exhaustive model check of the single-decree rules in <see cref="PaxosRules"/> (see <see cref="SingleDecreeModel"/>).
/// </summary>
/// <remarks>
/// Scope: 3 acceptors; 2 proposers, proposer 1 proposing "A" and proposer 2 "B"; 2 ballots each (1.1 and 2.1 for
/// P1, 1.2 and 2.2 for P2, so each proposer can be pre-empted and retry above the other); a network that reorders,
/// loses and duplicates every message. The full 2 + 2 space is explored (about 1.7 million distinct states, 19
/// million transitions) thanks to reductions that keep every behaviour of the processes and of the votes: acceptor
/// symmetry, dead-message pruning, Accepted messages recorded as votes, and no duplicate successors (details on
/// <see cref="SingleDecreeModel"/>). Loss and duplication stay explicit transitions.
/// </remarks>
public sealed class SingleDecreeModelCheckTests(ITestOutputHelper output)
{
    private static ExplorationResult<SingleDecreeState, ModelTransition> Explore(
        SingleDecreeModel model, Func<SingleDecreeState, string?> invariant, Func<SingleDecreeState, bool>? witness = null) =>
        ModelExplorer.Explore<SingleDecreeState, ModelTransition, string>(
            model.Initial(), model.Successors, s => s.Key, invariant, model.Describe, witness);

    private void Report(ExplorationResult<SingleDecreeState, ModelTransition> result)
    {
        output.WriteLine($"states: {result.StatesExplored:N0}, transitions: {result.TransitionsExplored:N0}, " +
                         $"depth: {result.MaxDepth}, finished: {result.Finished}, time: {result.Elapsed.TotalSeconds:F1}s");
        if (result.Violation is not null)
        {
            output.WriteLine($"violation: {result.Violation}");
            foreach (string line in result.TraceLines)
            {
                output.WriteLine(line);
            }
        }
    }

    [Fact]
    public void AllInterleavings_NeverChooseTwoValues()
    {
        var model = new SingleDecreeModel();

        var result = Explore(model, model.AtMostOneValueChosen, model.AnyChosen);

        Report(result);
        output.WriteLine($"states in which a value is chosen: {result.WitnessStates:N0}");
        Assert.Null(result.Violation);
        Assert.True(result.Finished, "the state space was not fully explored");
        Assert.True(result.StatesExplored > 1_000_000, $"only {result.StatesExplored} states explored");
        // Not vacuous: a value does get chosen in many of the states checked.
        Assert.True(result.WitnessStates > 100_000, $"a value is chosen in only {result.WitnessStates} states");
    }

    [Theory]
    [InlineData("A")]
    [InlineData("B")]
    public void EachValue_CanBeChosen(string value)
    {
        // Liveness-ish sanity: some execution chooses this value, so the safety check above is about real choices.
        var model = new SingleDecreeModel();

        var result = Explore(model, s => model.IsChosen(s, value) ? $"{value} is chosen" : null);

        Report(result);
        Assert.NotNull(result.Violation);
        Assert.NotEmpty(result.Trace);
    }

    [Fact]
    public void BrokenRule_ProposerIgnoresPromises_IsCaught()
    {
        var model = new SingleDecreeModel(new SingleDecreeModelOptions { ValueRule = SingleDecreeModel.OwnValueRule });

        var result = Explore(model, model.AtMostOneValueChosen);

        Report(result);
        Assert.NotNull(result.Violation);
        Assert.Contains("two different values chosen", result.Violation);
        Assert.NotEmpty(result.Trace);
        Assert.Equal(result.Trace.Count + 1, result.TraceLines.Count); // plus the initial state
        Assert.NotNull(model.AtMostOneValueChosen(result.ViolatingState!));
    }

    [Fact]
    public void BrokenRule_AcceptorAcceptsBelowPromise_IsCaught()
    {
        var model = new SingleDecreeModel(new SingleDecreeModelOptions { MayAccept = (_, _) => true });

        var result = Explore(model, model.AtMostOneValueChosen);

        Report(result);
        Assert.NotNull(result.Violation);
        Assert.NotEmpty(result.Trace);
        // The counterexample really needs an acceptor to accept below its promise.
        Assert.Contains(result.TraceLines, line => line.Contains("deliver Accept", StringComparison.Ordinal));
    }
}
