using Xunit.Abstractions;

namespace Kv.Paxos.Tests.ModelCheck;

/// <summary>
/// Exhaustive model check of the single-decree rules in <see cref="PaxosRules"/>: 3 acceptors, 2 proposers
/// (values A and B), 2 ballots each (1.1, 1.2, 2.1, 2.2), and a network that reorders, loses and duplicates every
/// message. Every reachable state is visited.
/// </summary>
public sealed class SingleDecreeModelCheckTests(ITestOutputHelper output)
{
    private static ExplorationResult<SingleDecreeState, ModelTransition> Explore(SingleDecreeModel model, Func<SingleDecreeState, bool>? witness = null) =>
        ModelExplorer.Explore<SingleDecreeState, ModelTransition, string>(
            model.Initial(), model.Successors, s => s.Key, model.AtMostOneValueChosen, model.Describe, witness);

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
        var result = Explore(model, s => model.Chosen(s).Count > 0);
        Report(result);
        output.WriteLine($"states with a chosen value: {result.WitnessStates:N0}");

        Assert.Null(result.Violation);
        Assert.True(result.Finished);
        Assert.True(result.StatesExplored > 100_000, $"only {result.StatesExplored} states explored");
        // Not vacuous: values do get chosen in the explored space.
        Assert.True(result.WitnessStates > 0);
    }
}
