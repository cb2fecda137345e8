using Kv.Storage.Encoding;

namespace Kv.Storage.Tests.Encoding;

/// <summary>
/// Seeded property tests of the data key layout. Keys are drawn mostly from 0x00, 0x01 and 0xFF — the bytes the
/// escaping and terminator are made of — so that prefixes, escapes and near-terminators collide often.
/// </summary>
public sealed class KeyEncodingTests
{
    private const int Cases = 20_000;

    private static readonly byte[] Alphabet = [0x00, 0x00, 0x01, 0xFF, 0xFF, 0x02, 0xFE, (byte)'a'];

    private static byte[] RandomUserKey(Random random, int lengthMax = 6)
    {
        var key = new byte[random.Next(0, lengthMax + 1)];
        for (int i = 0; i < key.Length; i++) key[i] = Alphabet[random.Next(Alphabet.Length)];
        return key;
    }

    private static Timestamp RandomTimestamp(Random random)
    {
        long wall = random.Next(6) switch
        {
            0 => 0,
            1 => long.MaxValue,
            2 => random.NextInt64(0, 4),
            _ => random.NextInt64(0, long.MaxValue),
        };
        int logical = random.Next(4) switch
        {
            0 => 0,
            1 => int.MaxValue,
            2 => random.Next(0, 3),
            _ => random.Next(),
        };
        return new Timestamp(wall, logical);
    }

    /// <summary>A version: staged (Timestamp null) or committed.</summary>
    private readonly record struct Version(byte[] UserKey, Timestamp? Committed)
    {
        public byte[] Encode() => Committed is { } ts ? KeyEncoding.Committed(UserKey, ts) : KeyEncoding.Staged(UserKey);

        /// <summary>The intended order: user key ascending, then the staged version, then newest first.</summary>
        public static int Compare(Version a, Version b)
        {
            int byKey = a.UserKey.AsSpan().SequenceCompareTo(b.UserKey);
            if (byKey != 0) return byKey;
            if (a.Committed is null || b.Committed is null)
                return (a.Committed is null ? 0 : 1) - (b.Committed is null ? 0 : 1);
            return b.Committed.Value.CompareTo(a.Committed.Value);
        }
    }

    private static Version RandomVersion(Random random, byte[]? userKey = null) =>
        new(userKey ?? RandomUserKey(random), random.Next(5) == 0 ? null : RandomTimestamp(random));

    [Fact]
    public void EncodedOrder_EqualsUserKeyAscending_ThenStaged_ThenTimestampDescending()
    {
        var random = new Random(20240601);
        for (int i = 0; i < Cases; i++)
        {
            var a = RandomVersion(random);
            // Half the pairs share the user key, so the version order is exercised as much as the key order.
            var b = random.Next(2) == 0 ? RandomVersion(random, a.UserKey) : RandomVersion(random);
            int expected = Math.Sign(Version.Compare(a, b));
            int actual = Math.Sign(a.Encode().AsSpan().SequenceCompareTo(b.Encode()));
            Assert.True(expected == actual,
                $"case {i}: {Convert.ToHexString(a.UserKey)}@{a.Committed} vs {Convert.ToHexString(b.UserKey)}@{b.Committed}: expected {expected}, encoded {actual}");
        }
    }

    [Fact]
    public void SortingEncodedKeys_SortsVersions()
    {
        var random = new Random(77);
        for (int round = 0; round < 50; round++)
        {
            var versions = Enumerable.Range(0, 200).Select(_ => RandomVersion(random, RandomUserKey(random, 3))).ToList();
            var byEncoding = versions.OrderBy(v => v.Encode(), BytewiseComparer.Instance).ToList();
            var byModel = versions.Order(Comparer<Version>.Create(Version.Compare)).ToList();
            for (int i = 0; i < versions.Count; i++)
                Assert.Equal(0, Version.Compare(byModel[i], byEncoding[i]));
        }
    }

    [Fact]
    public void NoEncodedUserKeyPrefix_IsAPrefixOfAnotherKeysEncoding()
    {
        var random = new Random(4242);
        for (int i = 0; i < Cases; i++)
        {
            var a = RandomUserKey(random);
            // Often b extends a, the case where a naive encoding would make a's prefix a prefix of b's.
            var b = random.Next(2) == 0 ? [.. a, .. RandomUserKey(random, 3)] : RandomUserKey(random);
            if (a.AsSpan().SequenceEqual(b)) continue;
            var prefixA = KeyEncoding.UserKeyPrefix(a);
            Assert.False(KeyEncoding.UserKeyPrefix(b).AsSpan().StartsWith(prefixA), $"case {i}: {Convert.ToHexString(a)} / {Convert.ToHexString(b)}");
            Assert.False(KeyEncoding.Staged(b).AsSpan().StartsWith(prefixA));
            Assert.False(KeyEncoding.Committed(b, RandomTimestamp(random)).AsSpan().StartsWith(prefixA));
            // And every version of a does start with it.
            Assert.True(KeyEncoding.Committed(a, RandomTimestamp(random)).AsSpan().StartsWith(prefixA));
        }
    }

    [Fact]
    public void Decode_InvertsTheEncoders()
    {
        var random = new Random(99);
        for (int i = 0; i < Cases; i++)
        {
            var key = RandomUserKey(random, 10);
            var ts = RandomTimestamp(random);
            var committed = KeyEncoding.Decode(KeyEncoding.Committed(key, ts));
            Assert.Equal(key, committed.UserKey);
            Assert.False(committed.Staged);
            Assert.Equal(ts, committed.Timestamp);

            var staged = KeyEncoding.Decode(KeyEncoding.Staged(key));
            Assert.Equal(key, staged.UserKey);
            Assert.True(staged.Staged);
        }
    }

    [Fact]
    public void EscapedLength_MatchesWrittenLength_AndSpanStartIsTheUserKeyPrefix()
    {
        var random = new Random(5);
        for (int i = 0; i < Cases; i++)
        {
            var key = RandomUserKey(random, 12);
            var buffer = new byte[2 * key.Length + 2];
            Assert.Equal(KeyEncoding.EscapedLength(key), KeyEncoding.WriteUserKey(key, buffer));
            Assert.Equal(KeyEncoding.UserKeyPrefix(key), KeyEncoding.SpanStart(key));
        }
    }

    public static TheoryData<string> MalformedKeys() =>
    [
        "",                                   // nothing
        "61",                                 // no terminator
        "6100",                               // ends inside an escape
        "610002",                             // invalid escape
        "6100FF",                             // escaped zero, then no terminator
        "610001",                             // terminator without a version suffix
        "61000102",                           // unknown marker
        "6100010000",                         // staged marker followed by more
        "61000101FFFFFFFFFFFFFFFF",           // committed suffix too short
        "61000101FFFFFFFFFFFFFFFFFFFFFFFF00", // committed suffix too long
        "61000100FFFFFFFFFFFFFFFFFFFFFFFF",   // committed length with the staged marker
    ];

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public void Decode_MalformedKey_Throws(string hex) =>
        Assert.Throws<FormatException>(() => KeyEncoding.Decode(Convert.FromHexString(hex)));

    [Fact]
    public void Decode_RandomBytes_EitherThrowsOrReencodesToTheSameBytes()
    {
        var random = new Random(31337);
        int decoded = 0;
        for (int i = 0; i < Cases; i++)
        {
            var bytes = RandomUserKey(random, 20);
            // Help some inputs reach a well-formed suffix.
            if (random.Next(3) == 0) bytes = [.. bytes, 0x00, 0x01, 0x00];
            DecodedKey key;
            try
            {
                key = KeyEncoding.Decode(bytes);
            }
            catch (FormatException)
            {
                continue;
            }
            decoded++;
            var again = key.Staged ? KeyEncoding.Staged(key.UserKey) : KeyEncoding.Committed(key.UserKey, key.Timestamp);
            Assert.Equal(bytes, again);
        }
        Assert.True(decoded > 100);
    }

    private sealed class BytewiseComparer : IComparer<byte[]>
    {
        public static readonly BytewiseComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
