using Kv.Admin.App;

namespace Kv.Admin.Tests;

/// <summary>What one kvctl run printed and returned.</summary>
public sealed record KvctlResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs kvctl in this process, as its Main would, with captured output and no KV_ENDPOINTS unless given.</summary>
public static class Kvctl
{
    public static async Task<KvctlResult> RunAsync(params string[] args) => await RunAsync(args, stdin: "", environment: null);

    public static async Task<KvctlResult> RunAsync(IReadOnlyList<string> args, string stdin, IReadOnlyDictionary<string, string>? environment,
        IKeyReader? keys = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var terminal = new Terminal(new StringReader(stdin), output, error, keys, OutputIsTerminal: false, Width: 200);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int code = await KvctlApp.RunOnceAsync(args, terminal, name => environment?.GetValueOrDefault(name), timeout.Token);
        return new KvctlResult(code, output.ToString(), error.ToString());
    }
}
