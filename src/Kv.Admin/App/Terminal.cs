namespace Kv.Admin.App;

/// <summary>
/// Where kvctl reads and writes: the real console, or strings in tests. <see cref="Keys"/> is set only when input
/// is an interactive terminal; the shell then edits lines itself (history, completion), else it reads plain lines.
/// </summary>
/// <param name="In">Lines for the shell.</param>
/// <param name="Out">Results.</param>
/// <param name="Error">Errors and progress.</param>
/// <param name="Keys">Key presses of an interactive terminal, or null.</param>
/// <param name="OutputIsTerminal">Whether <paramref name="Out"/> is a terminal (colours, width).</param>
/// <param name="Width">Columns for tables.</param>
public sealed record Terminal(TextReader In, TextWriter Out, TextWriter Error, IKeyReader? Keys, bool OutputIsTerminal, int Width)
{
    /// <summary>The process's console.</summary>
    public static Terminal FromConsole()
    {
        bool interactive = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        bool outputIsTerminal = !Console.IsOutputRedirected;
        int width = outputIsTerminal && Console.WindowWidth > 0 ? Console.WindowWidth : 200;
        return new Terminal(Console.In, Console.Out, Console.Error, interactive ? new ConsoleKeyReader() : null, outputIsTerminal, width);
    }
}

/// <summary>Reads key presses (the console, or a script of keys in tests).</summary>
public interface IKeyReader
{
    /// <summary>The next key; null at the end of input.</summary>
    ConsoleKeyInfo? ReadKey();
}

/// <summary>Keys from <see cref="Console.ReadKey(bool)"/>, not echoed.</summary>
internal sealed class ConsoleKeyReader : IKeyReader
{
    public ConsoleKeyInfo? ReadKey()
    {
        // While a line is edited Ctrl-C clears it; while a command runs it interrupts the command (Console.CancelKeyPress).
        Console.TreatControlCAsInput = true;
        try
        {
            return Console.ReadKey(intercept: true);
        }
        finally
        {
            Console.TreatControlCAsInput = false;
        }
    }
}
