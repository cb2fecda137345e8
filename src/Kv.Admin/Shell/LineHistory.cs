namespace Kv.Admin.Shell;

/// <summary>The shell's earlier lines, browsed with Up and Down. Bounded; repeats of the last line are not stored twice.</summary>
public sealed class LineHistory(int linesMax = 1000)
{
    private readonly List<string> _lines = [];
    private int _position;
    private string _draft = "";

    /// <summary>Every stored line, oldest first.</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>Stores an entered line (not blank ones) and resets browsing.</summary>
    public void Add(string line)
    {
        if (!string.IsNullOrWhiteSpace(line) && (_lines.Count == 0 || _lines[^1] != line))
        {
            _lines.Add(line);
            if (_lines.Count > linesMax) _lines.RemoveAt(0);
        }
        _position = _lines.Count;
        _draft = "";
    }

    /// <summary>The line before the one shown (Up), or null at the oldest. <paramref name="current"/> is kept to come back to.</summary>
    public string? Previous(string current)
    {
        if (_position == 0) return null;
        if (_position == _lines.Count) _draft = current;
        return _lines[--_position];
    }

    /// <summary>The line after the one shown (Down); past the newest, the line being typed before browsing. Null when not browsing.</summary>
    public string? Next()
    {
        if (_position >= _lines.Count) return null;
        _position++;
        return _position == _lines.Count ? _draft : _lines[_position];
    }
}
