using Kv.Admin.App;

namespace Kv.Admin.Tests;

/// <summary>The shell driven by piped input against a real cluster.</summary>
[Collection(AdminClusterCollection.Name)]
public sealed class ShellTests(AdminClusterFixture fixture)
{
    [Fact]
    public async Task PipedShell_RunsEveryLine_WithTheShellsOptions()
    {
        const string script = """
            # a comment, then commands as one would type them
            put shell/one 1
            kvctl put shell/two "two words"
            get shell/two --output raw
            scan --prefix shell/
            status
            history
            exit
            get shell/one
            """;
        var result = await Kvctl.RunAsync(["shell", "--echo", "--endpoints", fixture.Endpoints, "-o", "raw"], script, null);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var lines = result.Out.Split('\n');
        // --echo prints each line after the prompt; -o raw given to the shell applies to every line.
        Assert.Contains("kvctl> get shell/two --output raw", lines);
        Assert.Contains("two words", lines);
        Assert.Contains("shell/one\t1", lines);
        Assert.Contains("shell/two\ttwo words", lines);
        Assert.Equal(3, lines.Count(l => l.Contains("\tup\t")));
        Assert.Contains(lines, l => l.EndsWith("  put shell/one 1"));
        // Nothing after exit runs.
        Assert.DoesNotContain("kvctl> get shell/one", lines);
    }

    [Fact]
    public async Task PipedShell_GoesOnAfterAFailure_AndExitsWithItsCode()
    {
        var script = "get shell/absent\nbogus-command\nput shell/after ok\nhelp get\n";
        var result = await Kvctl.RunAsync(["shell", "--endpoints", fixture.Endpoints], script, null);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("not found", result.Error);
        Assert.Contains("Unrecognized command or argument 'bogus-command'", result.Error);
        Assert.Contains("OK shell/after", result.Out);
        Assert.Contains("Print the value of KEY", result.Out);
    }

    [Fact]
    public async Task ShellInsideTheShell_IsRefused()
    {
        var result = await Kvctl.RunAsync(["shell", "--endpoints", fixture.Endpoints], "shell\n", null);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("already in the shell", result.Error);
    }
}
