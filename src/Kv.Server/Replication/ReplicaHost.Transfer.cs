using Kv.Paxos;

namespace Kv.Server.Replication;

public sealed partial class ReplicaHost
{
    /// <summary>
    /// Asks this node's replica of the range, which must lead it, to hand leadership to <paramref name="targetNodeId"/>
    /// (a voter, not this node). Completes once the request is sent; the target then campaigns at once. Throws
    /// <see cref="NotLeaderException"/> when this replica does not lead, <see cref="RangeNotHostedException"/> when
    /// it is not hosted here, and <see cref="ArgumentException"/> when the target is not another voter.
    /// </summary>
    public async Task TransferLeadershipAsync(ulong rangeId, ulong targetNodeId, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _events.Writer.WriteAsync(new TransferLeadershipEvent(rangeId, checked((int)targetNodeId), completion), cancellationToken).ConfigureAwait(false);
        await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void TransferLeadership(TransferLeadershipEvent t, HashSet<HostedRange> touched)
    {
        if (!_ranges.TryGetValue(t.RangeId, out var r))
        {
            t.Completion.TrySetException(new RangeNotHostedException(t.RangeId, _nodeId));
            return;
        }
        switch (r.Core.TransferLeadership(t.Target))
        {
            case RequestStatus.Accepted:
                touched.Add(r);
                t.Completion.TrySetResult(true);
                break;
            case RequestStatus.NotLeader:
                t.Completion.TrySetException(new NotLeaderException(t.RangeId, r.Core.LeaderHint));
                break;
            default:
                t.Completion.TrySetException(new ArgumentException(
                    $"node {t.Target} is not a voter of range {t.RangeId} other than its leader (node {_nodeId})"));
                break;
        }
    }
}
