using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.Server.Tests.Process;

/// <summary>
/// A few concurrent writers, each a client with its own <see cref="WriteId.ClientId"/> and increasing sequence,
/// writing unique keys through whichever node answers. A write that fails (not the leader, node down, deadline)
/// is retried with the same write id on the next node until some node acknowledges it; every acknowledgement is
/// recorded with the node that gave it and when.
/// </summary>
internal sealed class WriteLoad : IAsyncDisposable
{
    private readonly ClusterProcesses _cluster;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _writers;
    private readonly TimeSpan _callTimeout;
    private volatile int _lastLeader;

    private WriteLoad(ClusterProcesses cluster, string prefix, int writers, TimeSpan callTimeout)
    {
        _cluster = cluster;
        _callTimeout = callTimeout;
        ulong clientBase = (ulong)Random.Shared.NextInt64(1, 1L << 40) << 8;
        _writers = Enumerable.Range(0, writers)
            .Select(w => Task.Run(() => WriteAsync(prefix, w, clientBase + (ulong)w)))
            .ToArray();
    }

    /// <summary>One acknowledged write: the node that acknowledged it, and when its successful attempt started
    /// and ended (since the load started).</summary>
    public sealed record Ack(string Key, string Value, int NodeId, TimeSpan Started, TimeSpan Acked);

    /// <summary>Starts <paramref name="writers"/> writers; each call's deadline is <paramref name="callTimeout"/>
    /// (default 2 s), after which the write is retried (same write id) on the next node.</summary>
    public static WriteLoad Start(ClusterProcesses cluster, string prefix, int writers = 4, TimeSpan? callTimeout = null) =>
        new(cluster, prefix, writers, callTimeout ?? TimeSpan.FromSeconds(2));

    /// <summary>Time since the load started (the clock of <see cref="Ack"/>).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The node that acknowledged the most recent write (0 before any).</summary>
    public int LastLeader => _lastLeader;

    public IReadOnlyList<Ack> Acks => _acks.ToArray();

    public int AckCount => _acks.Count;

    /// <summary>Failed attempts by status (and NotLeader or not), for the test output.</summary>
    public string ErrorSummary => string.Join(", ", _errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {e.Value}"));

    /// <summary>Waits for the first write acknowledged after <paramref name="after"/> by a node other than
    /// <paramref name="notBy"/>.</summary>
    public async Task<Ack?> WaitForAckAsync(TimeSpan after, int notBy, TimeSpan within)
    {
        var deadline = Now + within;
        while (Now < deadline)
        {
            var ack = _acks.Where(a => a.Acked > after && a.NodeId != notBy).MinBy(a => a.Acked);
            if (ack is not null) return ack;
            await Task.Delay(5);
        }
        return null;
    }

    /// <summary>Waits until at least <paramref name="count"/> writes were acknowledged in total.</summary>
    public async Task<bool> WaitForAcksAsync(int count, TimeSpan within)
    {
        var deadline = Now + within;
        while (Now < deadline)
        {
            if (_acks.Count >= count) return true;
            await Task.Delay(10);
        }
        return false;
    }

    /// <summary>Stops the writers (an unacknowledged write in flight is abandoned: it is not recorded).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task WriteAsync(string prefix, int writer, ulong clientId)
    {
        var token = _stop.Token;
        for (ulong sequence = 1; !token.IsCancellationRequested; sequence++)
        {
            string key = $"{prefix}/w{writer:D2}/{sequence:D8}";
            string value = $"value-{writer}-{sequence}-{Guid.NewGuid():N}";
            var request = new PutRequest
            {
                Key = ByteString.CopyFromUtf8(key),
                Value = ByteString.CopyFromUtf8(value),
                WriteId = new WriteId { ClientId = clientId, Sequence = sequence },
            };
            while (!token.IsCancellationRequested)
            {
                int leader = _lastLeader;
                var order = ClusterProcesses.NodeIds.OrderBy(id => id == leader ? 0 : 1).ThenBy(id => (id + writer) % 3);
                bool acked = false;
                foreach (int id in order)
                {
                    var started = Now;
                    try
                    {
                        await _cluster.Client(id).PutAsync(request, deadline: DateTime.UtcNow + _callTimeout, cancellationToken: token);
                        _acks.Enqueue(new Ack(key, value, id, started, Now));
                        _lastLeader = id;
                        acked = true;
                        break;
                    }
                    catch (RpcException e) when (!token.IsCancellationRequested)
                    {
                        bool notLeader = e.StatusCode == StatusCode.FailedPrecondition && e.GetRpcStatus()?.GetDetail<NotLeader>() is not null;
                        _errors.AddOrUpdate($"node {id} {(notLeader ? "NotLeader" : e.StatusCode.ToString())}", 1, (_, n) => n + 1);
                        if (e.StatusCode == StatusCode.FailedPrecondition && !notLeader)
                            _errors.AddOrUpdate("FailedPrecondition: " + e.Status.Detail, 1, (_, n) => n + 1);
                    }
                    catch (RpcException)
                    {
                        return;
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                if (acked) break;
                try { await Task.Delay(5, token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }
}
