using System.Text;
using Kv.Admin.App;

namespace Kv.Admin.Data;

/// <summary>How keys and values are written on the command line and in output (<c>--encoding</c>).</summary>
public enum ByteEncoding
{
    /// <summary>UTF-8 text (the default). Bytes that are not valid UTF-8 print as U+FFFD: use hex or base64 for binary data.</summary>
    Utf8,

    /// <summary>Hexadecimal, two digits per byte, either case.</summary>
    Hex,

    /// <summary>Standard base64 with padding.</summary>
    Base64,
}

/// <summary>Parses and formats bytes in a <see cref="ByteEncoding"/>.</summary>
public static class ByteCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The bytes <paramref name="text"/> stands for; <see cref="UsageException"/> when it is malformed.</summary>
    /// <param name="text">The argument as typed.</param>
    /// <param name="encoding">How it is written.</param>
    /// <param name="what">Its name in the error message ("key", "value").</param>
    public static byte[] Parse(string text, ByteEncoding encoding, string what)
    {
        try
        {
            return encoding switch
            {
                ByteEncoding.Hex => Convert.FromHexString(text),
                ByteEncoding.Base64 => Convert.FromBase64String(text),
                _ => Encoding.UTF8.GetBytes(text),
            };
        }
        catch (FormatException)
        {
            throw new UsageException($"the {what} '{text}' is not valid {Name(encoding)}; write it in {Name(encoding)} or change --encoding");
        }
    }

    /// <summary><paramref name="bytes"/> written in <paramref name="encoding"/> (hex in lower case).</summary>
    public static string Format(ReadOnlySpan<byte> bytes, ByteEncoding encoding) => encoding switch
    {
        ByteEncoding.Hex => Convert.ToHexStringLower(bytes),
        ByteEncoding.Base64 => Convert.ToBase64String(bytes),
        _ => Encoding.UTF8.GetString(bytes),
    };

    /// <summary>
    /// For tables: UTF-8 text when the bytes are printable UTF-8 (and <paramref name="encoding"/> is UTF-8), else the
    /// bytes in the chosen encoding, hex shown as <c>0x…</c>, so that control bytes never reach the terminal.
    /// </summary>
    public static string Display(ReadOnlySpan<byte> bytes, ByteEncoding encoding)
    {
        if (encoding == ByteEncoding.Utf8)
        {
            if (TryPrintableUtf8(bytes, out var text)) return text;
            return "0x" + Convert.ToHexStringLower(bytes);
        }
        return encoding == ByteEncoding.Hex ? "0x" + Convert.ToHexStringLower(bytes) : Convert.ToBase64String(bytes);
    }

    /// <summary>The end of the key span holding every key that starts with <paramref name="prefix"/> (empty: no end).</summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.ToArray();
        for (int i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] == 0xFF) continue;
            end[i]++;
            return end[..(i + 1)];
        }
        return [];
    }

    private static bool TryPrintableUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
        foreach (var c in text)
            if (char.IsControl(c)) return false;
        return true;
    }

    private static string Name(ByteEncoding encoding) => encoding switch
    {
        ByteEncoding.Hex => "hex",
        ByteEncoding.Base64 => "base64",
        _ => "UTF-8",
    };
}
