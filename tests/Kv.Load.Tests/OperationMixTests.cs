using Kv.Load.Ycsb;

namespace Kv.Load.Tests;

public class OperationMixTests
{
    public static TheoryData<string, double, double, double, double, double> Workloads => new()
    {
        { "a", 0.50, 0.50, 0, 0, 0 },
        { "b", 0.95, 0.05, 0, 0, 0 },
        { "c", 1.00, 0, 0, 0, 0 },
        { "e", 0, 0, 0.95, 0.05, 0 },
        { "f", 0.50, 0, 0, 0, 0.50 },
    };

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Draws_follow_the_ycsb_proportions(string name, double read, double update, double scan, double insert, double rmw)
    {
        var mix = OperationMix.Named(name)!;
        var random = new Random(5);
        var counts = new int[OperationMix.KindNames.Count];
        const int draws = 200_000;
        for (int i = 0; i < draws; i++) counts[(int)mix.Pick(random.NextDouble())]++;

        double[] expected = [read, update, scan, insert, rmw];
        for (int k = 0; k < expected.Length; k++)
        {
            double share = counts[k] / (double)draws;
            Assert.InRange(share, expected[k] - 0.005, expected[k] + 0.005);
            if (expected[k] == 0) Assert.Equal(0, counts[k]);
        }
    }

    [Fact]
    public void Edges_of_the_unit_interval_pick_the_first_and_last_kinds()
    {
        Assert.Equal(YcsbOperationKind.Scan, OperationMix.E.Pick(0));
        Assert.Equal(YcsbOperationKind.Insert, OperationMix.E.Pick(0.9999999));
        Assert.Equal(YcsbOperationKind.Read, OperationMix.F.Pick(0.4999999));
        Assert.Equal(YcsbOperationKind.ReadModifyWrite, OperationMix.F.Pick(0.5));
        Assert.Equal(YcsbOperationKind.Read, OperationMix.C.Pick(0.9999999));
    }

    [Fact]
    public void Unknown_workloads_are_refused()
    {
        Assert.Null(OperationMix.Named("d"));
        Assert.Null(OperationMix.Named(""));
        Assert.Same(OperationMix.A, OperationMix.Named("A"));
    }
}
