using Kv.Server.Configuration;
using Kv.Server.Node;
using Microsoft.Extensions.Logging;

namespace Kv.Server;

/// <summary>
/// The node's entry point.
/// <list type="bullet">
/// <item><c>dev [--data DIR] [--base-port P]</c>: a 3-node cluster on 127.0.0.1 in this process (ports P+1..P+3, default 7100).</item>
/// <item><c>health [flags]</c>: exits 0 if the node configured by the same settings answers gRPC health SERVING on loopback (the image's HEALTHCHECK).</item>
/// <item><c>node [flags]</c> (or just flags): one node, configured from flags, <c>KV_*</c> variables and appsettings.json (docs/configuration.md).</item>
/// </list>
/// </summary>
public static class Program
{
    /// <summary>Runs the command; the exit code is 0 after a clean shutdown.</summary>
    public static async Task<int> Main(string[] args)
    {
        Node.MallocArenas.Limit(2);
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
        try
        {
            if (args.Length > 0 && args[0] == "dev")
            {
                string data = Flag(args, "--data") ?? "data";
                int basePort = int.Parse(Flag(args, "--base-port") ?? "7100", System.Globalization.CultureInfo.InvariantCulture);
                return await DevCluster.RunAsync(data, basePort, stop.Token).ConfigureAwait(false);
            }
            if (args.Length > 0 && args[0] == "health")
                return await HealthProbe.RunAsync(NodeConfiguration.Load(args[1..]), TimeSpan.FromSeconds(5), Console.Out, stop.Token).ConfigureAwait(false);
            var nodeArgs = args.Length > 0 && args[0] == "node" ? args[1..] : args;
            var options = NodeConfiguration.Load(nodeArgs);
            // Per-request lines from ASP.NET Core and gRPC would cost more than the requests (four lines each): the
            // node logs its own events at Information and the frameworks' at Warning.
            await using var node = await KvNode.StartAsync(options, l => l.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true; // node_id (docs/observability.md)
            })
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning), stop.Token).ConfigureAwait(false);
            Console.WriteLine($"node {options.NodeId} serving on {options.Listen}");
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            return 0;
        }
        catch (NodeOptionsException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static string? Flag(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
