using Kv.Load.Ycsb;

namespace Kv.Load.Tests;

public class ZipfianGeneratorTests
{
    private const int Items = 1_000;
    private const int Samples = 400_000;

    [Fact]
    public void Ranks_follow_the_zipf_law_at_theta_0_99()
    {
        var zipf = new ZipfianGenerator(Items);
        var counts = Sample(r => zipf.Next(r), Items, seed: 7);

        Assert.True(ZipfSkew.Matches(counts, ZipfianGenerator.YcsbConstant, out string why), why);
        // Rank 0 is drawn with probability 1 / ζ(n, θ) (≈ 13.3 % for 1,000 items).
        Assert.InRange(counts[0] / (double)Samples, zipf.TopProbability * 0.97, zipf.TopProbability * 1.03);
    }

    [Fact]
    public void The_skew_check_rejects_a_uniform_generator_and_a_milder_skew()
    {
        var uniform = Sample(r => r.Next(Items), Items, seed: 7);
        Assert.False(ZipfSkew.Matches(uniform, ZipfianGenerator.YcsbConstant, out _));

        var mild = new ZipfianGenerator(Items, theta: 0.5);
        Assert.False(ZipfSkew.Matches(Sample(r => mild.Next(r), Items, seed: 7), ZipfianGenerator.YcsbConstant, out _));
    }

    [Fact]
    public void Scrambled_hot_records_spread_over_the_key_space_and_keep_the_skew()
    {
        var chooser = new KeyChooser(KeyDistribution.Zipfian, Items);
        var counts = Sample(r => chooser.Next(r), Items, seed: 11);
        var hottest = Enumerable.Range(0, Items).OrderByDescending(i => counts[i]).Take(16).ToArray();

        // The 16 hottest records land in at least 6 of 8 equal slices (8 ranges), not all at the start.
        Assert.True(SlicesHit(hottest, Items, 8) >= 6, $"hot records {string.Join(",", hottest)}");
        // Scrambling moves ranks, it does not flatten them: the hottest record is as hot as rank 0.
        Assert.InRange(counts.Max() / (double)Samples, new ZipfianGenerator(Items).TopProbability * 0.97, 0.2);
    }

    [Fact]
    public void The_spread_check_rejects_unscrambled_ranks()
    {
        var zipf = new ZipfianGenerator(Items);
        var counts = Sample(r => zipf.Next(r), Items, seed: 11);
        var hottest = Enumerable.Range(0, Items).OrderByDescending(i => counts[i]).Take(16).ToArray();
        Assert.True(SlicesHit(hottest, Items, 8) < 6);
    }

    [Fact]
    public void Uniform_choice_covers_every_record_evenly()
    {
        var chooser = new KeyChooser(KeyDistribution.Uniform, Items);
        var counts = Sample(r => chooser.Next(r), Items, seed: 3);
        double expected = Samples / (double)Items;
        Assert.All(counts, c => Assert.InRange(c, expected * 0.75, expected * 1.25));
    }

    [Fact]
    public void Fnv_hash_matches_the_reference_values()
    {
        // FNV-1a 64 of eight zero bytes, and of 01 00 00 00 00 00 00 00 (computed with the published algorithm).
        Assert.Equal(0xA8C7F832281A39C5UL, KeyChooser.Fnv1a64(0));
        Assert.Equal(0x89CD31291D2AEFA4UL, KeyChooser.Fnv1a64(1));
    }

    private static int SlicesHit(IEnumerable<int> records, int items, int slices) =>
        records.Select(r => r * slices / items).Distinct().Count();

    private static long[] Sample(Func<Random, long> next, int items, int seed)
    {
        var random = new Random(seed);
        var counts = new long[items];
        for (int i = 0; i < Samples; i++) counts[next(random)]++;
        return counts;
    }
}

/// <summary>
/// Whether sampled rank counts follow 1/(r+1)^θ: the share of the top 1, 10 and 100 ranks against the exact law
/// (ζ(k, θ) / ζ(n, θ)), within 2 % absolute each.
/// </summary>
internal static class ZipfSkew
{
    public static bool Matches(long[] countsByRank, double theta, out string why)
    {
        double total = countsByRank.Sum();
        double zetaN = ZipfianGenerator.Zeta(countsByRank.Length, theta);
        foreach (int k in new[] { 1, 10, 100 })
        {
            double observed = countsByRank.Take(k).Sum() / total;
            double expected = ZipfianGenerator.Zeta(k, theta) / zetaN;
            if (Math.Abs(observed - expected) > 0.02)
            {
                why = $"top {k} ranks: {observed:P2} of the draws, the zipf law says {expected:P2}";
                return false;
            }
        }
        why = "";
        return true;
    }
}
