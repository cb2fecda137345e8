using System.Text;

namespace Kv.Load;

/// <summary>
/// The keys <c>k00000000</c> … and the one value every put writes, encoded once up front so that the workers' loop
/// measures the system, not string formatting.
/// </summary>
internal sealed class KeySpace
{
    private readonly byte[][] _keys;

    public KeySpace(int keys, int valueBytes, int seed)
    {
        _keys = new byte[keys][];
        for (int n = 0; n < keys; n++) _keys[n] = Encoding.ASCII.GetBytes(Name(n));
        Value = new byte[valueBytes];
        new Random(seed).NextBytes(Value);
    }

    public int Count => _keys.Length;

    public byte[] Value { get; }

    public byte[] Key(int n) => _keys[n];

    public static string Name(long n) => FormattableString.Invariant($"k{n:D8}");
}
