using Kv.Admin.App;

// kvctl: one command (`kvctl status`) or an interactive shell (`kvctl shell`). Exit codes: docs/admin.md.
var terminal = Terminal.FromConsole();
await using var app = new KvctlApp(terminal);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Ctrl-C ends the running command; the shell then reads the next line, a one-shot command exits with 130.
    e.Cancel = true;
    app.Interrupt();
};
return await app.RunAsync(args, stop.Token);
