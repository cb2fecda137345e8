using Kv.Admin.Data;
using Kv.Admin.Commands;
using Kv.Admin.App;

namespace Kv.Admin.Tests;

public sealed class ByteCodecTests
{
    [Theory]
    [InlineData("hello", ByteEncoding.Utf8, new byte[] { 0x68, 0x65, 0x6c, 0x6c, 0x6f })]
    [InlineData("00FF10", ByteEncoding.Hex, new byte[] { 0x00, 0xff, 0x10 })]
    [InlineData("AP8Q", ByteEncoding.Base64, new byte[] { 0x00, 0xff, 0x10 })]
    public void Parse_And_Format_RoundTrip(string text, ByteEncoding encoding, byte[] bytes)
    {
        Assert.Equal(bytes, ByteCodec.Parse(text, encoding, "key"));
        Assert.Equal(text, ByteCodec.Format(bytes, encoding), ignoreCase: true);
    }

    [Theory]
    [InlineData(new byte[] { 0x61 }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0x61, 0xff }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0xff, 0xff }, new byte[0])]
    public void PrefixEnd_IsTheFirstKeyPastThePrefix(byte[] prefix, byte[] end) => Assert.Equal(end, ByteCodec.PrefixEnd(prefix));

    [Fact]
    public void Display_NeverPrintsControlBytes()
    {
        Assert.Equal("plain text", ByteCodec.Display("plain text"u8, ByteEncoding.Utf8));
        Assert.Equal("0x016b", ByteCodec.Display([0x01, 0x6b], ByteEncoding.Utf8));
        Assert.Equal("0xc328", ByteCodec.Display([0xc3, 0x28], ByteEncoding.Utf8)); // invalid UTF-8
    }

    [Fact]
    public void ScanSpan_FromOptions()
    {
        var (start, end) = DataCommands.ScanSpan("ab", null, null, ByteEncoding.Utf8);
        Assert.Equal("ab"u8.ToArray(), start);
        Assert.Equal("ac"u8.ToArray(), end);
        (start, end) = DataCommands.ScanSpan(null, "a", null, ByteEncoding.Utf8);
        Assert.Equal("a"u8.ToArray(), start);
        Assert.Empty(end);
        (start, end) = DataCommands.ScanSpan(null, null, null, ByteEncoding.Utf8);
        Assert.Empty(start);
        Assert.Empty(end);
        Assert.Throws<UsageException>(() => DataCommands.ScanSpan("", null, null, ByteEncoding.Utf8));
    }
}
