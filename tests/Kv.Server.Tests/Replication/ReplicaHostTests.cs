using Google.Protobuf;
using Kv.Paxos;
using Kv.Proto.V1;
using Kv.Server.Replication;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using Kv.Storage.Mvcc;
using Microsoft.Extensions.Logging.Abstractions;
using PaxosConfiguration = Kv.Paxos.Configuration;
using PaxosMessage = Kv.Paxos.PaxosMessage;

namespace Kv.Server.Tests.Replication;

/// <summary>Three hosts in one process, each with its own RocksDB, replicating one range over an in-memory network.</summary>
public sealed class ReplicaHostTests : IAsyncLifetime
{
    private const ulong RangeId = 2;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kv-host-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<ulong, Node> _nodes = new();
    private long _clock = 1_000;

    private sealed class Node(ulong id, NodeStore store, MvccStore mvcc, GroupCommitter committer, ReplicaHost host)
    {
        public ulong Id { get; } = id;
        public NodeStore Store { get; } = store;
        public MvccStore Mvcc { get; } = mvcc;
        public GroupCommitter Committer { get; } = committer;
        public ReplicaHost Host { get; } = host;
    }

    private sealed class Network(ReplicaHostTests owner) : IPeerSender
    {
        public bool Send(ulong toNode, ulong groupId, PaxosMessage message)
        {
            if (!owner._nodes.TryGetValue(toNode, out var target)) return false;
            target.Host.Deliver((ulong)message.From, groupId, message);
            return true;
        }
    }

    public Task InitializeAsync()
    {
        foreach (ulong id in new ulong[] { 1, 2, 3 }) StartNode(id);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var id in _nodes.Keys.ToList()) await StopNodeAsync(id);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private void StartNode(ulong id)
    {
        var store = NodeStore.Open(Path.Combine(_root, $"node-{id}"));
        var mvcc = new MvccStore(store);
        var committer = new GroupCommitter(store);
        var host = new ReplicaHost(id, store, mvcc, committer, new Network(this),
            replica => new ReplicaOptions { ReplicaId = replica, ElectionTimeoutTicks = 10, HeartbeatIntervalTicks = 2 },
            NullLogger.Instance);
        host.AddRange(RangeId, KeySpan.All, new PaxosConfiguration([1, 2, 3]));
        _nodes[id] = new Node(id, store, mvcc, committer, host);
        host.Start(TimeSpan.FromMilliseconds(5));
    }

    private async Task StopNodeAsync(ulong id)
    {
        var n = _nodes[id];
        _nodes.Remove(id);
        await n.Host.DisposeAsync();
        await n.Committer.DisposeAsync();
        n.Mvcc.Dispose();
        n.Store.Dispose();
    }

    private async Task<Node> LeaderAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var leader = _nodes.Values.FirstOrDefault(n => n.Host.Status(RangeId).IsLeader);
            if (leader is not null) return leader;
            await Task.Delay(10, timeout.Token);
        }
    }

    private Command Put(long client, long seq, string key, string value)
    {
        var c = new RangeCommand
        {
            Timestamp = new Proto.V1.Timestamp { WallNanos = Interlocked.Increment(ref _clock) },
            Put = new RangePut { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
        };
        return new Command(client, seq, c.ToByteArray());
    }

    /// <summary>Proposes at whichever node leads, retrying through leader changes, as a client would.</summary>
    private async Task<RangeCommandResult> WriteAsync(Command command)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var leader = await LeaderAsync();
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                return await leader.Host.ProposeAsync(RangeId, command, attempt.Token);
            }
            catch (Exception e) when (e is NotLeaderException or OperationCanceledException && !timeout.IsCancellationRequested)
            {
                await Task.Delay(20, timeout.Token);
            }
        }
    }

    private async Task<string?> ReadAsync(string key)
    {
        var leader = await LeaderAsync();
        var r = await leader.Host.ReadAsync(RangeId, System.Text.Encoding.UTF8.GetBytes(key), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        return r.HasValue ? System.Text.Encoding.UTF8.GetString(r.Value!) : null;
    }

    [Fact]
    public async Task Writes_AreChosenAppliedAndReadBack_OnEveryReplica()
    {
        for (int i = 0; i < 50; i++)
            Assert.True((await WriteAsync(Put(1, i + 1, $"k{i % 5}", $"v{i}"))).Succeeded);
        Assert.Equal("v49", await ReadAsync("k4"));
        Assert.Equal("v45", await ReadAsync("k0"));
        var leader = await LeaderAsync();
        long chosen = leader.Host.Status(RangeId).ChosenPrefix;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_nodes.Values.Any(n => n.Host.Status(RangeId).AppliedUpTo < chosen)) await Task.Delay(10, timeout.Token);
        foreach (var n in _nodes.Values)
        {
            var r = n.Mvcc.Get("k3"u8, Kv.Storage.Encoding.Timestamp.Max);
            Assert.Equal("v48", System.Text.Encoding.UTF8.GetString(r.Value!));
        }
    }

    [Fact]
    public async Task LeaderStops_TheOthersElectANewOne_AndNoAcknowledgedWriteIsLost()
    {
        Assert.True((await WriteAsync(Put(2, 1, "x", "before"))).Succeeded);
        var old = await LeaderAsync();
        await StopNodeAsync(old.Id);
        Assert.True((await WriteAsync(Put(2, 2, "y", "after"))).Succeeded);
        Assert.Equal("before", await ReadAsync("x"));
        Assert.Equal("after", await ReadAsync("y"));
        StartNode(old.Id); // restarts from its RocksDB directory and catches up
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var leader = await LeaderAsync();
        while (_nodes[old.Id].Host.Status(RangeId).AppliedUpTo < leader.Host.Status(RangeId).ChosenPrefix) await Task.Delay(10, timeout.Token);
        Assert.Equal("after", System.Text.Encoding.UTF8.GetString(_nodes[old.Id].Mvcc.Get("y"u8, Kv.Storage.Encoding.Timestamp.Max).Value!));
    }

    [Fact]
    public async Task AllNodesRestart_DataAndSessionsSurvive()
    {
        var first = await WriteAsync(Put(3, 1, "z", "kept"));
        foreach (var id in _nodes.Keys.ToList()) await StopNodeAsync(id);
        foreach (ulong id in new ulong[] { 1, 2, 3 }) StartNode(id);
        Assert.Equal("kept", await ReadAsync("z"));
        var retry = await WriteAsync(Put(3, 1, "z", "kept")); // the same write again: answered, not re-applied
        Assert.Equal(first, retry);
    }
}
