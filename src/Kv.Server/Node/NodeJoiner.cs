using Grpc.Core;
using Grpc.Net.Client;
using Kv.Server.Ranges;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Node;

/// <summary>
/// Joins a node with an empty data directory to a running cluster (<c>--join</c>): asks the members it was given,
/// in turn and with backoff, to add it (admin <c>AddNode</c>), until one does. The meta range then sends this node
/// a snapshot, after which it knows every range and serves (redirecting to the ranges' replicas).
/// </summary>
public sealed class NodeJoiner(ulong nodeId, Uri advertised, IReadOnlyList<Uri> members, NodeAddressBook addresses, ILogger<NodeJoiner> logger)
    : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Starts asking.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken ct)
    {
        var request = new Wire.AddNodeRequest { Node = new Wire.NodeInfo { NodeId = nodeId, Endpoint = advertised.ToString().TrimEnd('/') } };
        for (int attempt = 1; !ct.IsCancellationRequested; attempt++)
        {
            foreach (var member in members)
            {
                try
                {
                    using var channel = GrpcChannel.ForAddress(member);
                    var response = await new Wire.Admin.AdminClient(channel).AddNodeAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct)
                        .ConfigureAwait(false);
                    addresses.Update(response.Nodes);
                    logger.LogInformation("Node {Node} was added to the cluster by {Member}; waiting for the meta range's snapshot", nodeId, member);
                    return;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
                {
                    logger.LogError("The cluster at {Member} refuses node {Node}: {Reason}. Fix the settings and restart.", member, nodeId, e.Status.Detail);
                    return;
                }
                catch (RpcException e) when (!ct.IsCancellationRequested)
                {
                    logger.LogWarning("Joining through {Member} failed ({Status}: {Detail}); trying the next member", member, e.StatusCode, e.Status.Detail);
                }
                catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException)
                {
                    // Stopping: the channel reports the cancelled call as RpcException(Cancelled), not as an
                    // OperationCanceledException, and a stop must not fail because a join was in flight.
                    return;
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * attempt, 5000)), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
