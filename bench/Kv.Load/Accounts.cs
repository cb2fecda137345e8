using System.Text;
using Kv.Proto.V1;

namespace Kv.Load;

/// <summary>
/// The bank of the transfer workload: accounts <c>acct-000000</c>… with decimal balances, and which range holds each
/// (from <c>Admin.ListRanges</c>), so that a transaction can pick accounts in a chosen number of distinct ranges.
/// </summary>
internal sealed class Accounts
{
    /// <summary>Every account starts with this balance; transfers move money, never create it.</summary>
    public const long InitialBalance = 1_000_000;

    public const string Prefix = "acct-";

    private readonly byte[][] _keys;

    /// <summary>The account numbers in each range that holds at least two accounts, in key order.</summary>
    private readonly int[][] _byRange;

    public Accounts(int count, IReadOnlyList<RangeDescriptor> ranges)
    {
        _keys = new byte[count][];
        for (int n = 0; n < count; n++) _keys[n] = Encoding.ASCII.GetBytes(Name(n));
        var ordered = ranges.OrderBy(r => r.StartKey.ToByteArray(), ByteComparer.Instance).ToArray();
        var buckets = new List<int>[ordered.Length];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = [];
        int range = 0;
        for (int n = 0; n < count; n++)
        {
            // Accounts ascend in key order, and so do the ranges: walk both.
            while (range + 1 < ordered.Length && ByteComparer.Instance.Compare(_keys[n], ordered[range + 1].StartKey.ToByteArray()) >= 0) range++;
            buckets[range].Add(n);
        }
        _byRange = buckets.Where(b => b.Count >= 2).Select(b => b.ToArray()).ToArray();
    }

    public int Count => _keys.Length;

    /// <summary>How many ranges hold at least two accounts (the ones transactions pick from).</summary>
    public int RangeCount => _byRange.Length;

    /// <summary>The accounts per range, for the run's description.</summary>
    public IEnumerable<int> AccountsPerRange => _byRange.Select(r => r.Length);

    public byte[] Key(int n) => _keys[n];

    public static string Name(int n) => FormattableString.Invariant($"{Prefix}{n:D6}");

    /// <summary>
    /// The split keys that cut the accounts into <paramref name="ranges"/> ranges of (nearly) equal size: the first
    /// account of every range but the first.
    /// </summary>
    public static IReadOnlyList<string> SplitKeys(int accounts, int ranges) =>
        Enumerable.Range(1, ranges - 1).Select(i => Name((int)((long)i * accounts / ranges))).ToArray();

    /// <summary>
    /// <paramref name="into"/> gets <paramref name="rangesPerTxn"/> + (1 if it is 1) distinct accounts: with 1, two
    /// accounts of one range; otherwise one account in each of that many distinct ranges, chosen uniformly.
    /// </summary>
    public void Pick(Random random, int rangesPerTxn, Span<int> into)
    {
        if (rangesPerTxn == 1)
        {
            var range = _byRange[random.Next(_byRange.Length)];
            int a = random.Next(range.Length);
            int b = random.Next(range.Length - 1);
            if (b >= a) b++;
            into[0] = range[a];
            into[1] = range[b];
            return;
        }
        Span<int> chosen = stackalloc int[rangesPerTxn];
        for (int i = 0; i < rangesPerTxn; i++)
        {
            int r;
            do r = random.Next(_byRange.Length);
            while (chosen[..i].Contains(r));
            chosen[i] = r;
            into[i] = _byRange[r][random.Next(_byRange[r].Length)];
        }
    }

    /// <summary>Unsigned lexicographic order of keys, as the ranges sort them.</summary>
    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y.AsSpan());
    }
}
