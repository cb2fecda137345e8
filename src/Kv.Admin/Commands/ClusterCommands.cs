using System.CommandLine;
using Google.Protobuf;
using Kv.Admin.App;
using Kv.Admin.Cluster;
using Kv.Admin.Data;
using Kv.Admin.Output;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Commands;

/// <summary><c>status</c>, <c>ranges</c>, <c>split</c>, <c>leader transfer</c>.</summary>
public sealed class ClusterCommands : ICommandSet
{
    /// <inheritdoc />
    public IEnumerable<Command> Build(KvctlApp app) => [Status(app), Ranges(app), Split(app), Leader(app)];

    private static Command Status(KvctlApp app)
    {
        var command = new Command("status", "Every node: up or down, version, uptime, disk use, replicas and leaderships");
        app.SetAction(command, async (run, ct) =>
        {
            var cluster = await ClusterSnapshot.TakeAsync(run.Admin, run.Settings.Endpoints, ct).ConfigureAwait(false);
            var nodes = cluster.Reports();
            run.Out.Write(new { nodes }, new TableView(
                ["NODE", "ENDPOINT", "STATE", "VERSION", "UPTIME", "DISK", "REPLICAS", "LEADING"],
                nodes.Select(n => (IReadOnlyList<string>)
                [
                    n.NodeId == 0 ? "?" : n.NodeId.ToString(), n.Endpoint, n.Up ? "up" : $"down: {n.Error}", ShortVersion(n.Version),
                    n.UptimeMs is { } ms ? Units.Duration(TimeSpan.FromMilliseconds(ms)) : "",
                    n.DataDirectoryBytes is { } b ? Units.Bytes(b) : "", n.Replicas?.ToString() ?? "", n.Leading?.ToString() ?? "",
                ]).ToArray(),
                $"{nodes.Count(n => n.Up)} of {nodes.Count} nodes up",
                nodes.Select(n => (IReadOnlyList<string>)
                [
                    n.NodeId.ToString(), n.Endpoint, n.Up ? "up" : "down", n.Version ?? "", n.UptimeMs?.ToString() ?? "",
                    n.DataDirectoryBytes?.ToString() ?? "", n.Replicas?.ToString() ?? "", n.Leading?.ToString() ?? "",
                ]).ToArray()));
            if (cluster.AnyUp) return ExitCodes.Ok;
            await run.Terminal.Error.WriteLineAsync(
                $"kvctl status: no node answered. Is the cluster running? Check --endpoints or ${GlobalOptions.EndpointsVariable}.").ConfigureAwait(false);
            return ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>"1.0.0+32dd588": the commit hash of a version cut to 7 characters, for tables.</summary>
    internal static string ShortVersion(string? version)
    {
        if (version is null) return "";
        int plus = version.IndexOf('+');
        return plus >= 0 && version.Length > plus + 8 ? version[..(plus + 8)] : version;
    }

    private static Command Ranges(KvctlApp app)
    {
        var command = new Command("ranges", "Every range: span, replicas, leader, size, log length (from the meta range and every node)");
        app.SetAction(command, async (run, ct) =>
        {
            var directory = await run.Admin.AnyAsync((c, o) => c.ListRangesAsync(new Wire.ListRangesRequest(), o).ResponseAsync, null, ct).ConfigureAwait(false);
            var cluster = await ClusterSnapshot.TakeAsync(run.Admin, run.Settings.Endpoints, ct).ConfigureAwait(false);
            var ranges = RangeReport.Join(directory.Ranges, cluster, run.Settings.Encoding);
            var down = cluster.Nodes.Where(n => n.Status is null).Select(n => n.Node.NodeId).ToArray();
            run.Out.Write(new { ranges }, RangesTable(ranges, run.Settings.Encoding,
                $"{ranges.Count} ranges" + (down.Length > 0 ? $"; no answer from node {string.Join(", ", down)} (marked !)" : "")));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The ranges table; <paramref name="live"/>: with leader, size and log columns (<c>split</c> shows only the spans).</summary>
    internal static TableView RangesTable(IReadOnlyList<RangeReport> ranges, ByteEncoding encoding, string? footer, bool live = true)
    {
        string[] columns = ["RANGE", "START", "END", "GEN", "REPLICAS", "LEADER", "SIZE", "LOG", "APPLIED"];
        int width = live ? columns.Length : 5;
        string Replicas(RangeReport r) => string.Join(' ', r.Replicas.Select(x => $"{x.NodeId}{(x.Learner ? "(learner)" : "")}{(x.Up == false ? "!" : "")}"));
        return new TableView(columns[..width],
            ranges.Select(r => (IReadOnlyList<string>)new[]
            {
                r.RangeId.ToString(),
                r.Meta ? "(meta)" : r.Span.Start.Length == 0 ? "-∞" : ByteCodec.Display(r.Span.Start, encoding),
                r.Meta ? "" : r.Span.End.Length == 0 ? "+∞" : ByteCodec.Display(r.Span.End, encoding),
                r.Generation.ToString(),
                Replicas(r),
                r.LeaderNodeId?.ToString() ?? "none",
                r.ApproximateBytes is { } b ? Units.Bytes(b) : "",
                r.LogEntries?.ToString() ?? "",
                r.AppliedUpTo?.ToString() ?? "",
            }[..width]).ToArray(),
            footer,
            ranges.Select(r => (IReadOnlyList<string>)new[]
            {
                r.RangeId.ToString(), r.StartKey, r.EndKey ?? "", r.Generation.ToString(), Replicas(r), r.LeaderNodeId?.ToString() ?? "",
                r.ApproximateBytes?.ToString() ?? "", r.LogEntries?.ToString() ?? "", r.AppliedUpTo?.ToString() ?? "",
            }[..width]).ToArray());
    }

    private static Command Split(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "The split key: it becomes the first key of the new right range" };
        var command = new Command("split", "Split the range holding KEY at KEY") { key };
        app.SetAction(command, async (run, ct) =>
        {
            var splitKey = ByteCodec.Parse(run.Get(key), run.Settings.Encoding, "key");
            if (splitKey.Length == 0) throw new UsageException("the split key must not be empty");
            var result = await run.Admin.AnyAsync((c, o) => c.SplitRangeAsync(new Wire.SplitRangeRequest { SplitKey = ByteString.CopyFrom(splitKey) }, o).ResponseAsync,
                run.Settings.Timeout, ct).ConfigureAwait(false);
            var halves = RangeReport.Join([result.Left, result.Right], new ClusterSnapshot([]), run.Settings.Encoding);
            run.Out.Write(new { left = halves[0], right = halves[1] }, RangesTable(halves, run.Settings.Encoding,
                $"split range {result.Left.RangeId} at {ByteCodec.Display(splitKey, run.Settings.Encoding)}: new range {result.Right.RangeId}", live: false));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Leader(KvctlApp app)
    {
        var range = new Argument<ulong>("range") { Description = "The range id (see `kvctl ranges`)" };
        var node = new Argument<ulong>("node") { Description = "The node id to lead it (a voter of the range)" };
        var transfer = new Command("transfer", "Move the leadership of RANGE to NODE; returns once NODE leads") { range, node };
        app.SetAction(transfer, async (run, ct) =>
        {
            ulong rangeId = run.Get(range), nodeId = run.Get(node);
            var result = await run.Admin.AnyAsync((c, o) => c.TransferLeaderAsync(new Wire.TransferLeaderRequest { RangeId = rangeId, NodeId = nodeId }, o).ResponseAsync,
                run.Settings.Timeout, ct).ConfigureAwait(false);
            run.Out.Write(new { range_id = rangeId, leader_node_id = result.LeaderNodeId, already_leader = result.AlreadyLeader },
                result.AlreadyLeader ? $"node {nodeId} already leads range {rangeId}" : $"range {rangeId}: leader is now node {result.LeaderNodeId}");
            return ExitCodes.Ok;
        });
        return new Command("leader", "Range leadership") { transfer };
    }
}
