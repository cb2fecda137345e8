using System.Collections.Concurrent;
using Kv.Paxos;

namespace Kv.Server.Replication;

/// <summary>
/// Ticking, with quiescent replicas skipped, and node liveness: one message per peer node every heartbeat
/// interval, however many groups the nodes share. Quiescent groups send nothing of their own, so this is how
/// their followers learn that the leader's node is gone: after an election timeout of silence from it, the host
/// wakes them and they campaign (PAXOS.md §8). Idle ranges then cost a property read per tick each.
/// </summary>
public sealed partial class ReplicaHost
{
    /// <summary>The group id that carries node liveness messages; no range has it.</summary>
    public const ulong LivenessGroup = 0;

    // When this node last heard anything from each peer node (Environment.TickCount64); written by the transport.
    private readonly ConcurrentDictionary<ulong, long> _lastHeardMs = new();
    // Every replica, in a list the loop owns: ticking walks it without snapshotting the concurrent dictionary.
    private readonly List<HostedRange> _rangeList = [];
    private readonly HashSet<ulong> _peerNodes = [];
    private TimeSpan _tickInterval = TimeSpan.FromMilliseconds(10);
    private long _lastPingMs;
    // Whether every replica was quiescent after the last tick; the ticker then posts only every heartbeat interval.
    private volatile bool _allQuiescent;

    private void Host(HostedRange range)
    {
        _ranges[range.RangeId] = range;
        _rangeList.Add(range);
    }

    private void OnTick(HashSet<HostedRange> touched)
    {
        var options = _options(ReplicaId);
        long now = Environment.TickCount64;
        if (now - _lastPingMs >= (long)(options.HeartbeatIntervalTicks * _tickInterval.TotalMilliseconds))
        {
            _lastPingMs = now;
            SendLivenessPings();
        }
        long silentAfterMs = (long)(options.ElectionTimeoutTicks * _tickInterval.TotalMilliseconds);
        bool allQuiescent = true;
        foreach (var r in _rangeList)
        {
            if (r.Core.IsQuiescent)
            {
                if (r.Core.IsLeader || !LeaderSilent(r.Core.LeaderHint, now, silentAfterMs)) continue;
                r.Core.Wake();
            }
            r.Core.Tick();
            touched.Add(r);
            allQuiescent &= r.Core.IsQuiescent;
        }
        _allQuiescent = allQuiescent;
    }

    private bool LeaderSilent(int? leader, long now, long silentAfterMs) =>
        leader is not { } node || !_lastHeardMs.TryGetValue((ulong)node, out long heard) || now - heard > silentAfterMs;

    private void SendLivenessPings()
    {
        _peerNodes.Clear();
        foreach (var r in _rangeList)
            if (r.Core.LatestConfiguration is { } config)
                foreach (int member in config.Members)
                    if ((ulong)member != _nodeId) _peerNodes.Add((ulong)member);
        foreach (ulong node in _peerNodes)
            _sender.Send(node, LivenessGroup, new Heartbeat(ReplicaId, checked((int)node), Ballot.Zero, 0, 0, 0));
    }
}
