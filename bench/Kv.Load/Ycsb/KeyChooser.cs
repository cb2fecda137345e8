namespace Kv.Load.Ycsb;

/// <summary>How a YCSB operation picks the record it works on (<c>--distribution</c>).</summary>
internal enum KeyDistribution
{
    /// <summary>Every record equally likely.</summary>
    Uniform,

    /// <summary>Zipfian over the records (θ = 0.99), the ranks scrambled by a hash so that hot records spread over the key space.</summary>
    Zipfian,
}

/// <summary>
/// Picks record numbers in [0, records). Zipfian is YCSB's <c>ScrambledZipfianGenerator</c> in spirit: a zipfian
/// rank, then the record at FNV-1a(rank) mod records, so that the popular records are not neighbours (which would
/// put them all in one range: the keys <c>k00000000</c>… are ordered by number). Distinct ranks may land on one
/// record, as in YCSB. Immutable: shared by the workers.
/// </summary>
internal sealed class KeyChooser
{
    private readonly ZipfianGenerator? _zipfian;

    public KeyChooser(KeyDistribution distribution, int records)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(records, 1);
        Distribution = distribution;
        Records = records;
        if (distribution == KeyDistribution.Zipfian) _zipfian = new ZipfianGenerator(records);
    }

    public KeyDistribution Distribution { get; }

    public int Records { get; }

    public int Next(Random random) => _zipfian is null
        ? random.Next(Records)
        : Scramble(_zipfian.Next(random), Records);

    /// <summary>Where rank <paramref name="rank"/> lands among <paramref name="records"/> records.</summary>
    public static int Scramble(long rank, int records) => (int)(Fnv1a64(rank) % (ulong)records);

    /// <summary>FNV-1a, 64 bits, over the 8 bytes of <paramref name="value"/> (little end first), as YCSB's <c>fnvhash64</c>.</summary>
    public static ulong Fnv1a64(long value)
    {
        const ulong offsetBasis = 0xCBF29CE484222325;
        const ulong prime = 1099511628211;
        ulong hash = offsetBasis;
        ulong v = (ulong)value;
        for (int i = 0; i < 8; i++)
        {
            hash ^= v & 0xFF;
            hash *= prime;
            v >>= 8;
        }
        return hash;
    }
}
