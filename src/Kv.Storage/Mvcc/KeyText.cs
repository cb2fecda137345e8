using System.Text;

namespace Kv.Storage.Mvcc;

/// <summary>Printable forms of keys for messages: keys are arbitrary bytes, messages are text.</summary>
internal static class KeyText
{
    /// <summary>Bytes of a key shown before the rest is elided, so a huge key cannot flood a log line.</summary>
    private const int PrintedBytesMax = 128;

    /// <summary>
    /// The key in double quotes: printable ASCII as is (backslash and quote escaped), every other byte as \xNN;
    /// keys longer than <see cref="PrintedBytesMax"/> are cut and their length given.
    /// </summary>
    public static string Printable(ReadOnlySpan<byte> key)
    {
        var text = new StringBuilder(key.Length + 8);
        text.Append('"');
        int shown = Math.Min(key.Length, PrintedBytesMax);
        for (int i = 0; i < shown; i++)
        {
            byte b = key[i];
            if (b == (byte)'\\' || b == (byte)'"') text.Append('\\').Append((char)b);
            else if (b >= 0x20 && b < 0x7F) text.Append((char)b);
            else text.Append("\\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        text.Append('"');
        if (shown < key.Length) text.Append("… (").Append(key.Length).Append(" bytes)");
        return text.ToString();
    }

    /// <summary>
    /// The user key of an encoded data key, printable, for corruption reports: decodes as far as the escaping is
    /// well formed and shows the raw bytes when it is not.
    /// </summary>
    public static string PrintableUserKeyOf(ReadOnlySpan<byte> encodedKey)
    {
        int prefixLength = DataKeys.PrefixLength(encodedKey);
        if (prefixLength < 0) return $"{Printable(encodedKey)} (malformed encoded key)";
        return Printable(DataKeys.Unescape(encodedKey[..prefixLength]));
    }
}
