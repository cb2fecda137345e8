using System.Text;

namespace Kv.Server.Api;

/// <summary>Keys as status messages show them: bounded, printable ASCII as is, other bytes as \xNN.</summary>
internal static class KeyDisplay
{
    private const int ShownBytesMax = 64;

    /// <summary>The key in double quotes, cut after <see cref="ShownBytesMax"/> bytes with its length given.</summary>
    public static string Printable(ReadOnlySpan<byte> key)
    {
        var text = new StringBuilder(Math.Min(key.Length, ShownBytesMax) + 16);
        text.Append('"');
        foreach (byte b in key[..Math.Min(key.Length, ShownBytesMax)])
        {
            if (b is (byte)'"' or (byte)'\\') text.Append('\\').Append((char)b);
            else if (b is >= 0x20 and < 0x7f) text.Append((char)b);
            else text.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        text.Append('"');
        if (key.Length > ShownBytesMax) text.Append("… (").Append(key.Length).Append(" bytes)");
        return text.ToString();
    }
}
