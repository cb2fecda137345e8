using System.CommandLine;
using Kv.Admin.App;
using Kv.Admin.Output;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Commands;

/// <summary><c>members list|add|remove</c>: the cluster's node registry.</summary>
public sealed class MembersCommands : ICommandSet
{
    /// <inheritdoc />
    public IEnumerable<Command> Build(KvctlApp app) =>
        [new Command("members", "The cluster's nodes: list, add, remove") { List(app), Add(app), Remove(app) }];

    private static Command List(KvctlApp app)
    {
        var command = new Command("list", "The nodes in the cluster's registry");
        app.SetAction(command, async (run, ct) =>
        {
            var response = await run.Admin.AnyAsync((c, o) => c.ListNodesAsync(new Wire.ListNodesRequest(), o).ResponseAsync, null, ct).ConfigureAwait(false);
            Print(run, response.Nodes);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add(KvctlApp app)
    {
        var id = new Argument<ulong>("node-id") { Description = "The new node's id (never reused)" };
        var endpoint = new Argument<string>("endpoint") { Description = "The URL the node serves on, e.g. http://host4:7101" };
        var command = new Command("add", "Register a node (what a node started with --join does): it learns the meta range and routes requests") { id, endpoint };
        app.SetAction(command, async (run, ct) =>
        {
            var node = new Wire.NodeInfo { NodeId = run.Get(id), Endpoint = run.Get(endpoint) };
            var response = await run.Admin.AnyAsync((c, o) => c.AddNodeAsync(new Wire.AddNodeRequest { Node = node }, o).ResponseAsync,
                run.Settings.Timeout, ct).ConfigureAwait(false);
            Print(run, response.Nodes);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove(KvctlApp app)
    {
        var id = new Argument<ulong>("node-id") { Description = "The node to remove" };
        var command = new Command("remove", "Remove a node from the cluster (where the server supports it; this one does not yet)") { id };
        app.SetAction(command, async (run, ct) =>
        {
            ulong nodeId = run.Get(id);
            await run.Admin.AnyAsync((c, o) => c.RemoveNodeAsync(new Wire.RemoveNodeRequest { NodeId = nodeId }, o).ResponseAsync,
                run.Settings.Timeout, ct).ConfigureAwait(false);
            run.Out.Write(new { node_id = nodeId, removed = true }, $"node {nodeId} removed");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(Invocation run, IEnumerable<Wire.NodeInfo> nodes)
    {
        var rows = nodes.OrderBy(n => n.NodeId).Select(n => new { node_id = n.NodeId, endpoint = n.Endpoint }).ToArray();
        run.Out.Write(new { nodes = rows }, new TableView(["NODE", "ENDPOINT"],
            rows.Select(n => (IReadOnlyList<string>)[n.node_id.ToString(), n.endpoint]).ToArray()));
    }
}
