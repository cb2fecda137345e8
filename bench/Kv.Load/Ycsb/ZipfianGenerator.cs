namespace Kv.Load.Ycsb;

/// <summary>
/// Zipfian ranks in [0, items): rank r is drawn with probability proportional to 1 / (r + 1)^θ, so rank 0 is the
/// most popular. The generator of Gray et al., "Quickly Generating Billion-Record Synthetic Databases" (SIGMOD 1994),
/// as YCSB implements it (<c>ZipfianGenerator</c>): ζ(n, θ) is summed once up front, then each draw costs one uniform
/// number and one <see cref="Math.Pow"/>. Immutable after construction: safe to share between workers, each passing
/// its own <see cref="Random"/>.
/// </summary>
internal sealed class ZipfianGenerator
{
    /// <summary>YCSB's default skew (<c>ZIPFIAN_CONSTANT</c>).</summary>
    public const double YcsbConstant = 0.99;

    private readonly double _theta;
    private readonly double _alpha;
    private readonly double _zetaN;
    private readonly double _eta;
    private readonly double _halfPowTheta;

    /// <param name="items">How many ranks (at least 1).</param>
    /// <param name="theta">The skew, in (0, 1): YCSB uses 0.99.</param>
    public ZipfianGenerator(long items, double theta = YcsbConstant)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 1);
        if (theta is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(theta), theta, "theta must be in (0, 1)");
        Items = items;
        _theta = theta;
        _alpha = 1 / (1 - theta);
        _zetaN = Zeta(items, theta);
        double zeta2 = Zeta(Math.Min(items, 2), theta);
        _eta = (1 - Math.Pow(2.0 / items, 1 - theta)) / (1 - zeta2 / _zetaN);
        _halfPowTheta = 1 + Math.Pow(0.5, theta);
    }

    /// <summary>How many ranks there are.</summary>
    public long Items { get; }

    /// <summary>The probability of rank 0, 1 / ζ(n, θ): what a sample of the generator must approach.</summary>
    public double TopProbability => 1 / _zetaN;

    /// <summary>The next rank (0: the most popular).</summary>
    public long Next(Random random)
    {
        double u = random.NextDouble();
        double uz = u * _zetaN;
        if (uz < 1) return 0;
        if (uz < _halfPowTheta) return Math.Min(1, Items - 1);
        long rank = (long)(Items * Math.Pow(_eta * u - _eta + 1, _alpha));
        return Math.Min(rank, Items - 1);
    }

    /// <summary>ζ(n, θ) = Σ_{i=1..n} 1 / i^θ.</summary>
    public static double Zeta(long n, double theta)
    {
        double sum = 0;
        for (long i = 1; i <= n; i++) sum += 1 / Math.Pow(i, theta);
        return sum;
    }
}
