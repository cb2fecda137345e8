using Kv.Paxos;
using Kv.Simulation.Checking;

namespace Kv.Simulation.Sim;

/// <summary>
/// Clients: each runs one operation at a time (a put of a unique value or a linearizable get), retries on
/// timeouts and redirects, and records the operation in the history for the linearizability checker. Client
/// traffic crosses the simulated network too (delay, loss), but not partitions.
/// </summary>
public sealed partial class Simulator
{
    private const long AttemptTimeoutUs = 25_000;
    private const long OperationDeadlineUs = 250_000;
    private SimClient? _probe;
    private bool _probeDone;

    private void StartOperation(SimClient client)
    {
        bool isProbe = ReferenceEquals(client, _probe);
        if (!isProbe && _now >= _p.FaultPhaseUs) { client.Stopped = true; return; }
        client.OpId++;
        client.Attempt = 0;
        client.Busy = true;
        client.IsWrite = isProbe ? client.Completed == 0 : _rng.NextDouble() < _p.WriteRate;
        client.Key = isProbe ? "probe" : $"k{_rng.Next(_p.Keys)}";
        if (client.IsWrite)
        {
            client.Seq = ++client.NextSeq;
            client.Value = $"c{client.Id}.{client.Seq}";
        }
        if (!isProbe && _rng.NextDouble() < _p.ClientRandomTargetRate)
        {
            var members = _nodes.Values.Where(n => n.Member).Select(n => n.Id).Order().ToList();
            client.Target = members[_rng.Next(members.Count)];
        }
        client.InvokeUs = _now;
        client.DeadlineUs = _now + (isProbe ? _p.LivenessBoundUs : OperationDeadlineUs);
        SendAttempt(client);
    }

    private void SendAttempt(SimClient client)
    {
        long opId = client.OpId;
        int attempt = ++client.Attempt;
        int target = client.Target;
        long seq = client.Seq;
        bool isWrite = client.IsWrite;
        string key = client.Key;
        string value = client.Value;
        if (!ClientLinkDrops())
            At(_now + Delay(), () => OnClientRequest(target, client.Id, opId, isWrite, key, value, seq));
        At(_now + AttemptTimeoutUs, () =>
        {
            if (!client.Busy || client.OpId != opId || client.Attempt != attempt) return;
            RetryOrGiveUp(client, hint: null);
        });
    }

    private bool ClientLinkDrops() => _rng.NextDouble() < EffectiveLoss / 2;

    private void RetryOrGiveUp(SimClient client, int? hint)
    {
        if (_now >= client.DeadlineUs)
        {
            // Gave up: a write's effect is unknown (it may still be applied); a read had none and is dropped.
            if (client.IsWrite) _history.Add(new KvOperation(client.Id, client.Key, KvOperationKind.Write, client.Value, client.InvokeUs, null));
            Finish(client);
            return;
        }
        var members = _nodes.Values.Where(n => n.Member).Select(n => n.Id).Order().ToList();
        client.Target = hint is { } h && _nodes.ContainsKey(h) ? h : members[_rng.Next(members.Count)];
        long backoff = hint is null ? _rng.NextInt64(500, 3_000) : 0;
        long opId = client.OpId;
        At(_now + backoff, () => { if (client.Busy && client.OpId == opId) SendAttempt(client); });
    }

    private void Finish(SimClient client)
    {
        client.Busy = false;
        client.Completed++;
        if (ReferenceEquals(client, _probe) && client.Completed >= 2)
        {
            _probeDone = true;
            return;
        }
        At(_now + _rng.NextInt64(0, _p.ClientThinkMaxUs), () => StartOperation(client));
    }

    /// <summary>A node receives a client request: propose the write or start a linearizable read.</summary>
    private void OnClientRequest(int nodeId, int clientId, long opId, bool isWrite, string key, string value, long seq)
    {
        if (!_nodes.TryGetValue(nodeId, out var node) || node.Replica is not { } r) return;
        if (_trace is not null) Trace($"client {clientId} -> n{nodeId} {(isWrite ? $"put {key}={value} seq={seq}" : $"get {key} op={opId}")}");
        RequestStatus status;
        if (isWrite)
        {
            status = r.Propose(new Command(clientId, seq, KvStateMachine.EncodePut(key, value)));
            if (status == RequestStatus.Accepted) node.PendingWrites[(clientId, seq)] = clientId;
        }
        else
        {
            long readId = ++node.NextReadId;
            status = r.RequestRead(readId);
            if (status == RequestStatus.Accepted) node.PendingReads[readId] = (clientId, opId, key);
        }
        if (status != RequestStatus.Accepted) ReplyToClient(nodeId, clientId, isWrite, isWrite ? seq : opId, ok: false, null, r.LeaderHint);
        Pump(node);
    }

    /// <summary>A reply travels back to the client; <paramref name="token"/> is the write's sequence or the read's op id.</summary>
    private void ReplyToClient(int nodeId, int clientId, bool forWrite, long token, bool ok, string? value, int? hint)
    {
        if (ClientLinkDrops()) return;
        At(_now + Delay(), () =>
        {
            var client = clientId == _probe?.Id ? _probe : _clients.FirstOrDefault(c => c.Id == clientId);
            if (client is null || !client.Busy) return;
            bool matches = client.IsWrite == forWrite && token == (forWrite ? client.Seq : client.OpId);
            if (!matches) return;
            if (_trace is not null) Trace($"client {clientId} <- n{nodeId} ok={ok} {(client.IsWrite ? "put" : "get")} {client.Key} value={value} hint={hint}");
            if (!ok)
            {
                if (hint == nodeId) hint = null;
                RetryOrGiveUp(client, hint);
                return;
            }
            _history.Add(new KvOperation(client.Id, client.Key, client.IsWrite ? KvOperationKind.Write : KvOperationKind.Read,
                client.IsWrite ? client.Value : value, client.InvokeUs, _now));
            Finish(client);
        });
    }

    /// <summary>After healing, one write and one read must complete within the liveness bound.</summary>
    private void StartProbe()
    {
        _probe = new SimClient(999) { Target = _nodes.Keys.Min() };
        StartOperation(_probe);
    }
}
