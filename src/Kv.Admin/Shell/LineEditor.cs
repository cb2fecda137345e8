using Kv.Admin.App;

namespace Kv.Admin.Shell;

/// <summary>
/// Reads a line from a terminal key by key: editing (<see cref="LineBuffer"/>), history on Up/Down
/// (<see cref="LineHistory"/>), Tab completion (twice lists the candidates), Ctrl-C clears the line, Ctrl-D on an
/// empty line ends input. Redraws the line with ANSI sequences; lines longer than the terminal are not wrapped well.
/// </summary>
public sealed class LineEditor(IKeyReader keys, TextWriter output, LineHistory history, Func<string, IReadOnlyList<string>> complete)
{
    /// <summary>The next line (added to history), or null at the end of input.</summary>
    public string? ReadLine(string prompt)
    {
        var buffer = new LineBuffer();
        output.Write(prompt);
        output.Flush();
        bool tabbedOnce = false;
        while (true)
        {
            if (keys.ReadKey() is not { } key) return null;
            bool tab = false;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    output.WriteLine();
                    history.Add(buffer.Text);
                    return buffer.Text;
                case ConsoleKey.Backspace: buffer.Backspace(); break;
                case ConsoleKey.Delete: buffer.Delete(); break;
                case ConsoleKey.LeftArrow: buffer.Move(-1); break;
                case ConsoleKey.RightArrow: buffer.Move(1); break;
                case ConsoleKey.Home: buffer.Home(); break;
                case ConsoleKey.End: buffer.End(); break;
                case ConsoleKey.UpArrow when history.Previous(buffer.Text) is { } previous: buffer.Replace(previous); break;
                case ConsoleKey.DownArrow when history.Next() is { } next: buffer.Replace(next); break;
                case ConsoleKey.Tab:
                    tab = true;
                    var candidates = buffer.Complete(complete(buffer.Text[..buffer.Cursor]));
                    if (candidates.Count > 0 && tabbedOnce)
                    {
                        output.WriteLine();
                        output.WriteLine(string.Join("  ", candidates));
                    }
                    break;
                default:
                    if (!HandleControl(key, buffer, out bool endOfInput))
                    {
                        if (!char.IsControl(key.KeyChar)) buffer.Insert(key.KeyChar.ToString());
                    }
                    else if (endOfInput)
                    {
                        output.WriteLine();
                        return null;
                    }
                    break;
            }
            tabbedOnce = tab;
            Redraw(prompt, buffer);
        }
    }

    /// <summary>Ctrl-A/E/U/K/W/C/D (and Ctrl-B/F, Ctrl-P/N as arrows are not bound). Returns whether the key was one.</summary>
    private bool HandleControl(ConsoleKeyInfo key, LineBuffer buffer, out bool endOfInput)
    {
        endOfInput = false;
        if ((key.Modifiers & ConsoleModifiers.Control) == 0) return false;
        switch (key.Key)
        {
            case ConsoleKey.A: buffer.Home(); return true;
            case ConsoleKey.E: buffer.End(); return true;
            case ConsoleKey.U: buffer.DeleteToStart(); return true;
            case ConsoleKey.K: buffer.DeleteToEnd(); return true;
            case ConsoleKey.W: buffer.DeleteWordBefore(); return true;
            case ConsoleKey.C:
                buffer.Replace("");
                return true;
            case ConsoleKey.D:
                if (buffer.Text.Length == 0) endOfInput = true;
                else buffer.Delete();
                return true;
            default:
                return true;
        }
    }

    private void Redraw(string prompt, LineBuffer buffer)
    {
        // Carriage return, prompt and text, erase the rest of the line, then put the cursor back where it belongs.
        output.Write('\r' + prompt + buffer.Text + "\u001b[K");
        int back = buffer.Text.Length - buffer.Cursor;
        if (back > 0) output.Write($"\u001b[{back}D");
        output.Flush();
    }
}
