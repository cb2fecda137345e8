using Kv.Storage.Ranges;
using static Kv.Storage.Tests.Ranges.TestKeys;

namespace Kv.Storage.Tests.Ranges;

public sealed class RangeSpanTests
{
    [Fact]
    public void Construct_StartNotBelowEnd_Throws()
    {
        Assert.Throws<ArgumentException>(() => new RangeSpan(K("b"), K("b")));
        Assert.Throws<ArgumentException>(() => new RangeSpan(K("c"), K("b")));
        Assert.Throws<ArgumentException>(() => new RangeSpan(K(0x62, 0x00), K("b")));
    }

    [Fact]
    public void EmptyEnd_IsUnboundedAndContainsEveryKeyFromStart()
    {
        var span = new RangeSpan(K("b"), []);
        Assert.True(span.IsUnbounded);
        Assert.True(span.Contains(K(0xFF, 0xFF, 0xFF)));
        Assert.True(span.Contains(K("b")));
        Assert.False(span.Contains(K(0x61, 0xFF)));
        Assert.True(RangeSpan.All.Contains([]));
    }

    [Fact]
    public void Contains_StartInclusive_EndExclusive()
    {
        Assert.True(BToC.Contains(K("b")));
        Assert.True(BToC.Contains(K(0x62, 0x00)));
        Assert.False(BToC.Contains(K("c")));
        Assert.False(BToC.Contains(K(0x61, 0xFF, 0xFF)));
    }

    [Fact]
    public void Equality_ComparesBytes_AndToStringIsHex()
    {
        Assert.Equal(new RangeSpan(K("b"), K("c")), new RangeSpan(K("b"), K("c")));
        Assert.Equal(new RangeSpan(K("b"), K("c")).GetHashCode(), new RangeSpan(K("b"), K("c")).GetHashCode());
        Assert.NotEqual(new RangeSpan(K("b"), K("c")), new RangeSpan(K("b"), []));
        Assert.Equal("[62, 63)", BToC.ToString());
        Assert.Equal("[min, max)", RangeSpan.All.ToString());
    }
}
