using Google.Protobuf;
using Grpc.Core;
using Kv.Paxos;
using Kv.Server.Clock;
using Kv.Server.Peers;
using Kv.Server.Ranges;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Replication;

/// <summary>
/// Proposes the node's own commands (range ids for splits, splits, meta-range updates) to whichever node leads
/// the range: here when this node leads it, else through that node's <c>Replication.Propose</c>, following
/// NotLeader hints. Each command carries a client id and a fresh sequence, so a retry after a lost answer applies
/// once. Proposals run concurrently, and a range refuses a client's sequence below one it already applied, so
/// each in-flight proposal holds one of a few lanes (a client id with its own increasing sequence) until it ends.
/// </summary>
public sealed class RangeProposer
{
    private readonly ulong _nodeId;
    private readonly ReplicaHost _host;
    private readonly HybridLogicalClock _clock;
    private readonly PeerChannels _channels;
    private readonly RangeDirectory _directory;
    private readonly ILogger _logger;
    private const int LanesMax = 8;
    private readonly System.Threading.Channels.Channel<ProposerLane> _lanes =
        System.Threading.Channels.Channel.CreateBounded<ProposerLane>(LanesMax);

    /// <summary>Creates the proposer; its client id is random per process, so restarts never reuse sequences.</summary>
    public RangeProposer(ulong nodeId, ReplicaHost host, HybridLogicalClock clock, PeerChannels channels, RangeDirectory directory, ILogger logger)
    {
        _nodeId = nodeId;
        _host = host;
        _clock = clock;
        _channels = channels;
        _directory = directory;
        _logger = logger;
        // Random per process: a restarted node never reuses a (client, sequence) pair.
        for (int i = 0; i < LanesMax; i++) _lanes.Writer.TryWrite(new ProposerLane(Random.Shared.NextInt64(1, long.MaxValue)));
    }

    /// <summary>Proposes <paramref name="command"/> to the range until it is applied or <paramref name="cancellationToken"/> fires.</summary>
    public async Task<Wire.RangeCommandResult> ProposeAsync(ulong rangeId, Wire.RangeCommand command, CancellationToken cancellationToken)
    {
        var lane = await _lanes.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long sequence = ++lane.Sequence;
            return await ForwardAsync(rangeId,
                ct => ProposeHereAsync(rangeId, lane.ClientId, sequence, command, ct),
                (channel, ct) => new Wire.Replication.ReplicationClient(channel).ProposeAsync(
                    new Wire.ProposeRequest { RangeId = rangeId, ClientId = lane.ClientId, Sequence = sequence, Command = command },
                    deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct).ResponseAsync,
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lanes.Writer.TryWrite(lane);
        }
    }

    /// <summary>
    /// Proposes an idempotent command (a transaction's) without a client id: it needs no lane and no session, and may
    /// apply more than once when a lost answer makes the forwarding retry, which such a command tolerates.
    /// </summary>
    public Task<Wire.RangeCommandResult> ProposeIdempotentAsync(ulong rangeId, Wire.RangeCommand command, CancellationToken cancellationToken)
    {
        // Client 0 keeps no session, but the host still matches an answer to its waiter by (client, sequence):
        // a random sequence keeps concurrent proposals apart.
        long sequence = Random.Shared.NextInt64(1, long.MaxValue);
        return ForwardAsync(rangeId,
            ct => ProposeHereAsync(rangeId, 0, sequence, command, ct),
            (channel, ct) => new Wire.Replication.ReplicationClient(channel).ProposeAsync(
                new Wire.ProposeRequest { RangeId = rangeId, Sequence = sequence, Command = command },
                deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct).ResponseAsync,
            cancellationToken, KnownLeader(rangeId));
    }

    /// <summary>
    /// Where a proposal to the range goes first: the leader this node's replica knows, when that is another node. Trying
    /// here first would cost a pass through this node's replica loop (which may be in the middle of a synced write) only
    /// to be refused with NotLeader: a transaction's stage in a range led elsewhere waited 0.1–1.5 ms (p50) for that
    /// under load. This node when it leads, knows no leader, or hosts no replica (as before: the call finds the way).
    /// </summary>
    private ulong KnownLeader(ulong rangeId)
    {
        if (!_host.Hosts(rangeId)) return _nodeId;
        try
        {
            var status = _host.Status(rangeId);
            return !status.IsLeader && status.LeaderHint is > 0 and var hint ? (ulong)hint : _nodeId;
        }
        catch (KeyNotFoundException)
        {
            return _nodeId; // the replica went away meanwhile
        }
    }

    /// <summary>Proposes a membership change of the range at its leader, retrying until it is proposed (or already in force).</summary>
    public Task ChangeMembershipAsync(ulong rangeId, Wire.ChangeMembershipRequest.Types.Kind kind, ulong nodeId, CancellationToken cancellationToken)
    {
        var change = new MembershipChange(kind switch
        {
            Wire.ChangeMembershipRequest.Types.Kind.AddLearner => MembershipChangeKind.AddLearner,
            Wire.ChangeMembershipRequest.Types.Kind.PromoteLearner => MembershipChangeKind.PromoteLearner,
            _ => MembershipChangeKind.Remove,
        }, checked((int)nodeId));
        return ForwardAsync(rangeId,
            async ct =>
            {
                await _host.ProposeMembershipAsync(rangeId, change, ct).ConfigureAwait(false);
                return true;
            },
            async (channel, ct) =>
            {
                await new Wire.Replication.ReplicationClient(channel).ChangeMembershipAsync(
                    new Wire.ChangeMembershipRequest { RangeId = rangeId, Kind = kind, NodeId = nodeId },
                    deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct).ResponseAsync.ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Runs a call at the range's leader: <paramref name="here"/> on this node, or <paramref name="there"/> at the node
    /// the NotLeader answers point to, retrying other replicas (RPC failures, unhosted ranges, refusals) until
    /// <paramref name="cancellationToken"/> fires. Other exceptions end the call. The first attempt goes to
    /// <paramref name="firstTarget"/> (a leader known in advance), this node when null.
    /// </summary>
    public async Task<T> ForwardAsync<T>(
        ulong rangeId, Func<CancellationToken, Task<T>> here, Func<Grpc.Net.Client.GrpcChannel, CancellationToken, Task<T>> there,
        CancellationToken cancellationToken, ulong? firstTarget = null)
    {
        using var span = Telemetry.KvTracing.StartForward(rangeId, _nodeId);
        try
        {
            return await FollowLeaderAsync(rangeId, here, there, firstTarget ?? _nodeId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Telemetry.KvTracing.Fail(span, e);
            throw;
        }
    }

    private async Task<T> FollowLeaderAsync<T>(
        ulong rangeId, Func<CancellationToken, Task<T>> here, Func<Grpc.Net.Client.GrpcChannel, CancellationToken, Task<T>> there,
        ulong target, CancellationToken cancellationToken)
    {
        int attempt = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ulong? next;
            try
            {
                if (target == _nodeId) return await here(cancellationToken).ConfigureAwait(false);
                var channel = _channels.For(target) ?? throw new RpcException(new Status(StatusCode.Unavailable, $"no address for node {target}"));
                return await there(channel, cancellationToken).ConfigureAwait(false);
            }
            catch (NotLeaderException e)
            {
                next = e.LeaderHint is > 0 ? (ulong)e.LeaderHint.Value : null;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && e.GetRpcStatus()?.GetDetail<Wire.NotLeader>() is { } notLeader)
            {
                next = notLeader.LeaderNodeId > 0 ? notLeader.LeaderNodeId : null;
            }
            catch (Exception e) when (e is RpcException or RangeNotHostedException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogDebug(e, "Call to range {Range} at node {Target} failed; trying again", rangeId, target);
                next = null;
            }
            attempt++;
            if (next is { } leader && leader != target && attempt < 100)
            {
                target = leader;
                continue;
            }
            // No leader known, or told to stay: back off and ask the replicas in turn.
            target = NextReplica(rangeId, attempt);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(20 * attempt, 500)), cancellationToken).ConfigureAwait(false);
        }
    }

    private ulong NextReplica(ulong rangeId, int attempt)
    {
        var replicas = _directory.Get(rangeId)?.Replicas.Select(r => r.NodeId).ToArray();
        if (rangeId == RangeIds.Meta || replicas is null || replicas.Length == 0)
            replicas = _host.Replicas().FirstOrDefault(r => r.RangeId == rangeId)?.Descriptor.Replicas.Select(r => r.NodeId).ToArray();
        return replicas is { Length: > 0 } ? replicas[attempt % replicas.Length] : _nodeId;
    }

    private async Task<Wire.RangeCommandResult> ProposeHereAsync(ulong rangeId, long clientId, long sequence, Wire.RangeCommand command, CancellationToken ct)
    {
        var stamped = command.Clone();
        var now = await _clock.NowAsync(ct).ConfigureAwait(false);
        stamped.Timestamp = new Wire.Timestamp { WallNanos = now.WallNanos, Logical = now.Logical };
        return await _host.ProposeAsync(rangeId, new Command(clientId, sequence, stamped.ToByteArray()), ct).ConfigureAwait(false);
    }

    /// <summary>A client id used by one proposal at a time, with its last sequence.</summary>
    private sealed class ProposerLane(long clientId)
    {
        public long ClientId { get; } = clientId;

        public long Sequence { get; set; }
    }
}
