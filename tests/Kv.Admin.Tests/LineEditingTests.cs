using Kv.Admin.App;
using Kv.Admin.Commands;
using Kv.Admin.Shell;

namespace Kv.Admin.Tests;

/// <summary>The shell's line editing, history and completion, without a terminal.</summary>
public sealed class LineEditingTests
{
    [Fact]
    public void Buffer_EditsAtTheCursor()
    {
        var b = new LineBuffer();
        b.Insert("get key");
        b.Move(-3);
        b.Insert("my");
        Assert.Equal("get mykey", b.Text);
        b.Backspace();
        b.Delete();
        Assert.Equal("get mey", b.Text);
        b.End();
        b.DeleteWordBefore();
        Assert.Equal("get ", b.Text);
        b.Home();
        b.DeleteToEnd();
        Assert.Equal("", b.Text);
    }

    [Fact]
    public void Complete_OneCandidate_ReplacesTheWord_Several_ExtendToTheCommonPrefix_ThenList()
    {
        var b = new LineBuffer();
        b.Insert("sta");
        Assert.Empty(b.Complete(["status", "scan"]));
        Assert.Equal("status ", b.Text);

        var c = new LineBuffer();
        c.Insert("members r");
        Assert.Empty(c.Complete(["remove", "reset", "list"]));
        Assert.Equal("members re", c.Text);
        Assert.Equal(["remove", "reset"], c.Complete(["remove", "reset", "list"]));
        Assert.Equal("members re", c.Text);
    }

    [Fact]
    public void History_BrowsesBackAndForth_KeepingTheDraft()
    {
        var h = new LineHistory();
        h.Add("status");
        h.Add("ranges");
        h.Add("ranges");
        h.Add("  ");
        Assert.Equal(["status", "ranges"], h.Lines);
        Assert.Equal("ranges", h.Previous("dra"));
        Assert.Equal("status", h.Previous("ranges"));
        Assert.Null(h.Previous("status"));
        Assert.Equal("ranges", h.Next());
        Assert.Equal("dra", h.Next());
        Assert.Null(h.Next());
    }

    [Fact]
    public void Completer_OffersCommandsSubcommandsOptionsAndValues()
    {
        var app = new KvctlApp(new Terminal(TextReader.Null, TextWriter.Null, TextWriter.Null, null, false, 80));
        var completer = new ShellCompleter(app.Root, ShellCommands.ShellWords);
        Assert.Contains("status", completer.Complete("st"));
        Assert.Contains("exit", completer.Complete(""));
        Assert.DoesNotContain("shell", completer.Complete(""));
        Assert.Equal(["transfer"], completer.Complete("leader ").Where(c => !c.StartsWith('-')));
        Assert.Contains("--output", completer.Complete("status --"));
        Assert.Contains("json", completer.Complete("status --output "));
        Assert.Contains("--prefix", completer.Complete("scan --"));
    }

    [Fact]
    public void Editor_TabCompletes_UpRecalls_CtrlDEnds()
    {
        var output = new StringWriter();
        var history = new LineHistory();
        var app = new KvctlApp(new Terminal(TextReader.Null, TextWriter.Null, TextWriter.Null, null, false, 80));
        var keys = new ScriptedKeys("sta\tranges\r\u2191\r\u0004");
        var editor = new LineEditor(keys, output, history, new ShellCompleter(app.Root, ShellCommands.ShellWords).Complete);
        Assert.Equal("status ranges", editor.ReadLine("> "));
        Assert.Equal("status ranges", editor.ReadLine("> "));
        Assert.Null(editor.ReadLine("> "));
    }

    /// <summary>Keys from a string: \t Tab, \r Enter, ↑ Up, \u0004 Ctrl-D, \b Backspace; anything else typed.</summary>
    private sealed class ScriptedKeys(string script) : IKeyReader
    {
        private int _next;

        public ConsoleKeyInfo? ReadKey()
        {
            if (_next >= script.Length) return null;
            char c = script[_next++];
            return c switch
            {
                '\t' => new ConsoleKeyInfo('\t', ConsoleKey.Tab, false, false, false),
                '\r' => new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false),
                '\b' => new ConsoleKeyInfo('\b', ConsoleKey.Backspace, false, false, false),
                '\u2191' => new ConsoleKeyInfo('\0', ConsoleKey.UpArrow, false, false, false),
                '\u0004' => new ConsoleKeyInfo('\u0004', ConsoleKey.D, false, false, true),
                _ => new ConsoleKeyInfo(c, ConsoleKey.A, false, false, false),
            };
        }
    }
}
