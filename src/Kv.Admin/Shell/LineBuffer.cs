namespace Kv.Admin.Shell;

/// <summary>The line being edited and its cursor: the editing rules of the shell, without any console.</summary>
public sealed class LineBuffer
{
    private readonly System.Text.StringBuilder _text = new();

    /// <summary>The text.</summary>
    public string Text => _text.ToString();

    /// <summary>The cursor, 0 … <c>Text.Length</c>.</summary>
    public int Cursor { get; private set; }

    /// <summary>Inserts at the cursor.</summary>
    public void Insert(string s)
    {
        _text.Insert(Cursor, s);
        Cursor += s.Length;
    }

    /// <summary>Deletes the character before the cursor (Backspace).</summary>
    public void Backspace()
    {
        if (Cursor == 0) return;
        _text.Remove(--Cursor, 1);
    }

    /// <summary>Deletes the character at the cursor (Delete).</summary>
    public void Delete()
    {
        if (Cursor < _text.Length) _text.Remove(Cursor, 1);
    }

    /// <summary>Deletes the word before the cursor (Ctrl-W).</summary>
    public void DeleteWordBefore()
    {
        int start = Cursor;
        while (start > 0 && _text[start - 1] == ' ') start--;
        while (start > 0 && _text[start - 1] != ' ') start--;
        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    /// <summary>Deletes from the start to the cursor (Ctrl-U).</summary>
    public void DeleteToStart()
    {
        _text.Remove(0, Cursor);
        Cursor = 0;
    }

    /// <summary>Deletes from the cursor to the end (Ctrl-K).</summary>
    public void DeleteToEnd() => _text.Remove(Cursor, _text.Length - Cursor);

    /// <summary>Moves the cursor by <paramref name="delta"/>, within the text.</summary>
    public void Move(int delta) => Cursor = Math.Clamp(Cursor + delta, 0, _text.Length);

    /// <summary>Home.</summary>
    public void Home() => Cursor = 0;

    /// <summary>End.</summary>
    public void End() => Cursor = _text.Length;

    /// <summary>Replaces the text (a line from history), cursor at the end.</summary>
    public void Replace(string text)
    {
        _text.Clear().Append(text);
        Cursor = text.Length;
    }

    /// <summary>The word the cursor ends, and where it starts: what Tab completes.</summary>
    public (int Start, string Word) WordBeforeCursor()
    {
        int start = Cursor;
        while (start > 0 && _text[start - 1] != ' ') start--;
        return (start, _text.ToString(start, Cursor - start));
    }

    /// <summary>
    /// Tab: with one candidate, replaces the word with it and a space; with several, extends the word to their common
    /// prefix. Returns the candidates to list when the word could not be extended (several, nothing in common to add).
    /// </summary>
    public IReadOnlyList<string> Complete(IReadOnlyList<string> candidates)
    {
        var (start, word) = WordBeforeCursor();
        var matching = candidates.Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct().ToArray();
        if (matching.Length == 0) return [];
        if (matching.Length == 1)
        {
            ReplaceWord(start, matching[0] + " ");
            return [];
        }
        var common = CommonPrefix(matching);
        if (common.Length > word.Length)
        {
            ReplaceWord(start, common);
            return [];
        }
        return matching;
    }

    private void ReplaceWord(int start, string replacement)
    {
        _text.Remove(start, Cursor - start).Insert(start, replacement);
        Cursor = start + replacement.Length;
    }

    private static string CommonPrefix(IReadOnlyList<string> words)
    {
        var prefix = words[0];
        foreach (var w in words.Skip(1))
        {
            int n = 0;
            while (n < prefix.Length && n < w.Length && prefix[n] == w[n]) n++;
            prefix = prefix[..n];
        }
        return prefix;
    }
}
