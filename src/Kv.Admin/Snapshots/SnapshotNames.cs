using System.CommandLine;
using System.CommandLine.Completions;
using Grpc.Core;
using Grpc.Net.Client;
using Kv.Admin.App;
using Wire = Kv.Proto.V1;

namespace Kv.Admin.Snapshots;

/// <summary>
/// Completes snapshot names in the shell: asks the shell's endpoints for the published snapshots (1 s per node).
/// Outside the shell (one-shot commands) it offers nothing, since no endpoints are resolved there.
/// </summary>
internal static class SnapshotNames
{
    private static readonly TimeSpan PerNodeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Adds the completion source to <paramref name="argument"/>.</summary>
    public static Argument<string> CompletedBy(this Argument<string> argument, KvctlApp app)
    {
        argument.CompletionSources.Add(context => Complete(app, context));
        return argument;
    }

    private static IEnumerable<CompletionItem> Complete(KvctlApp app, CompletionContext context)
    {
        if (app.ShellSettings is not { } settings) return [];
        foreach (var endpoint in settings.Endpoints)
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(endpoint);
                // System.CommandLine's completion sources are synchronous, so this one call blocks (bounded by its deadline).
                var list = new Wire.Snapshots.SnapshotsClient(channel).List(new Wire.ListSnapshotsRequest(), deadline: DateTime.UtcNow + PerNodeTimeout);
                return list.Snapshots.Select(s => s.Name).Where(n => n.StartsWith(context.WordToComplete, StringComparison.Ordinal))
                    .Select(n => new CompletionItem(n)).ToArray();
            }
            catch (RpcException)
            {
                // This node did not answer: try the next one; with none, offer nothing rather than fail the key press.
            }
        }
        return [];
    }
}
