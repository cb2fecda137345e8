using Kv.Storage.Encoding;
using Kv.Storage.Mvcc;

namespace Kv.Storage.Tests.Mvcc;

/// <summary>The span-based helpers of the read path must agree with KeyEncoding byte for byte.</summary>
public sealed class DataKeysTests
{
    [Fact]
    public void SpanHelpers_AgreeWithKeyEncoding()
    {
        var random = new Random(1234);
        byte[] alphabet = [0x00, 0x01, 0xFF, 0x02, (byte)'x'];
        for (int i = 0; i < 20_000; i++)
        {
            var key = new byte[random.Next(1, 9)];
            for (int j = 0; j < key.Length; j++) key[j] = alphabet[random.Next(alphabet.Length)];
            var ts = new Timestamp(random.NextInt64(0, long.MaxValue), random.Next());

            var buffer = new byte[KeyEncoding.EscapedLength(key) + KeyEncoding.CommittedSuffixLength];
            int prefixLength = DataKeys.WritePrefix(key, buffer);
            int total = prefixLength + DataKeys.WriteCommittedSuffix(ts, buffer.AsSpan(prefixLength));
            var expected = KeyEncoding.Committed(key, ts);
            Assert.Equal(expected, buffer.AsSpan(0, total).ToArray());

            Assert.Equal(prefixLength, DataKeys.PrefixLength(expected));
            Assert.Equal(prefixLength, DataKeys.PrefixLength(KeyEncoding.Staged(key)));
            Assert.Equal(key, DataKeys.Unescape(expected.AsSpan(0, prefixLength)));
            Assert.True(DataKeys.TryReadCommittedSuffix(expected.AsSpan(prefixLength), out var read));
            Assert.Equal(ts, read);
            Assert.True(DataKeys.IsStagedSuffix(KeyEncoding.Staged(key).AsSpan(prefixLength)));

            // The prefix end bounds exactly this key's versions.
            var end = expected.AsSpan(0, prefixLength).ToArray();
            DataKeys.SetPrefixEnd(end, end: true);
            Assert.True(expected.AsSpan().SequenceCompareTo(end) < 0);
            Assert.True(KeyEncoding.Staged(key).AsSpan().SequenceCompareTo(end) < 0);
            var greater = (byte[])[.. key, 0x00];
            Assert.True(KeyEncoding.Staged(greater).AsSpan().SequenceCompareTo(end) > 0);
        }
    }

    [Fact]
    public void PrefixLength_OfMalformedKeys_IsMinusOne()
    {
        Assert.Equal(-1, DataKeys.PrefixLength("abc"u8));
        Assert.Equal(-1, DataKeys.PrefixLength([0x61, 0x00]));
        Assert.Equal(-1, DataKeys.PrefixLength([0x61, 0x00, 0x02, 0x00, 0x01]));
        Assert.False(DataKeys.TryReadCommittedSuffix([0x01, 0x02], out _));
    }

    [Fact]
    public void TxnId_RoundTripsThroughBytesAndGuids()
    {
        var id = new TxnId(0x0123456789ABCDEF, 0xFEDCBA9876543210);
        var bytes = new byte[TxnId.Size];
        id.Write(bytes);
        Assert.Equal(id, TxnId.Read(bytes));
        Assert.Equal("0123456789abcdeffedcba9876543210", id.ToString());
        var guid = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Assert.Equal(TxnId.Read(guid.ToByteArray()), TxnId.FromGuid(guid));
        Assert.True(TxnId.Empty.IsEmpty);
    }
}
