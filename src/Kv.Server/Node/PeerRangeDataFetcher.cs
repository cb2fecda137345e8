using Grpc.Core;
using Kv.Server.Peers;
using Kv.Server.Replication;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Node;

/// <summary>
/// Fetches a range's data from a peer over <c>RangeData.Fetch</c>. Before copying it asks the peer (admin
/// <c>NodeStatus</c>) how far its replica has applied: data read after that moment reflects at least that much, so
/// a peer that is far enough along is a valid source.
/// </summary>
public sealed class PeerRangeDataFetcher(PeerChannels channels, RangeDataOps data, ILogger<PeerRangeDataFetcher> logger) : IRangeDataFetcher
{
    /// <inheritdoc />
    public async Task FetchAsync(IReadOnlyList<ulong> candidates, ulong rangeId, KeySpan span, long appliedAtLeast, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        foreach (ulong node in candidates)
        {
            var channel = channels.For(node);
            if (channel is null)
            {
                reasons.Add($"node {node}: no address");
                continue;
            }
            try
            {
                var status = await new Wire.Admin.AdminClient(channel).NodeStatusAsync(new Wire.NodeStatusRequest(),
                    deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken).ConfigureAwait(false);
                var replica = status.Replicas.FirstOrDefault(r => r.Range.RangeId == rangeId);
                if (replica is null || replica.AppliedUpTo < appliedAtLeast)
                {
                    reasons.Add($"node {node}: applied {replica?.AppliedUpTo.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}, needs {appliedAtLeast}");
                    continue;
                }
                var stats = await RangeDataClient.FetchAndInstallAsync(channel, rangeId, new RangeSpan(span.Start, span.End ?? []), data,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Range {Range}: installed {Span} from node {Node} ({Stats})", rangeId, span, node, stats);
                return;
            }
            catch (Exception e) when (e is RpcException or RangeTransferException)
            {
                reasons.Add($"node {node}: {e.Message}");
            }
        }
        throw new InvalidOperationException($"No replica could serve range {rangeId}'s data: {string.Join("; ", reasons)}");
    }
}
