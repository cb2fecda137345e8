using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Tests.Node;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// A transaction driven through the raw gRPC API, as a client SDK would: a read timestamp from Begin, reads that
/// record the versions they saw, buffered writes (read-your-own-writes), and one Commit at a chosen node.
/// </summary>
internal sealed class TxnDriver
{
    private readonly InProcessCluster _cluster;
    private readonly Dictionary<string, Wire.TxnReadDependency> _reads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Wire.TxnWrite> _writes = new(StringComparer.Ordinal);
    private readonly List<Wire.TxnSpanRead> _spans = [];

    private TxnDriver(InProcessCluster cluster, Wire.Timestamp readTimestamp)
    {
        _cluster = cluster;
        ReadTimestamp = readTimestamp;
        TxnId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray());
    }

    public Wire.Timestamp ReadTimestamp { get; }

    public ByteString TxnId { get; }

    public static async Task<TxnDriver> BeginAsync(InProcessCluster cluster, int node = 1, bool omitReadsFromCommit = false, bool stable = false,
        bool snapshotIsolation = false)
    {
        var begin = await cluster.Txn(node).BeginAsync(new Wire.BeginTransactionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        return new TxnDriver(cluster, begin.ReadTimestamp)
        {
            OmitReadsFromCommit = omitReadsFromCommit, Stable = stable || snapshotIsolation, SnapshotIsolation = snapshotIsolation,
        };
    }

    /// <summary>
    /// A pessimistic transaction: its record is created at <paramref name="homeKey"/> by a first heartbeat, and every
    /// read locks its key first (the test heartbeats it with <see cref="HeartbeatAsync"/>, as the SDK would).
    /// </summary>
    public static async Task<TxnDriver> BeginLockingAsync(InProcessCluster cluster, string homeKey, int node = 1)
    {
        var begin = await cluster.Txn(node).BeginAsync(new Wire.BeginTransactionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        var txn = new TxnDriver(cluster, begin.ReadTimestamp);
        txn.Lock = new Wire.TxnLockSpec { TxnId = txn.TxnId, HomeKey = ByteString.CopyFromUtf8(homeKey), Priority = begin.ReadTimestamp.WallNanos };
        Assert.False(await txn.HeartbeatAsync(node));
        return txn;
    }

    /// <summary>Pessimistic: the lock every read takes first (null: optimistic).</summary>
    public Wire.TxnLockSpec? Lock { get; private set; }

    /// <summary>One heartbeat of a pessimistic transaction at <paramref name="node"/>: whether it was found aborted.</summary>
    public async Task<bool> HeartbeatAsync(int node)
    {
        var answer = await _cluster.Txn(node).HeartbeatAsync(new Wire.TxnHeartbeatRequest { TxnId = TxnId, HomeKey = Lock!.HomeKey },
            deadline: DateTime.UtcNow.AddSeconds(5));
        return answer.Aborted;
    }

    public async Task<string?> GetAsync(string key)
    {
        if (_writes.TryGetValue(key, out var mine)) return mine.Delete ? null : mine.Value.ToStringUtf8();
        var read = await ReadAtAnyNodeAsync(key);
        _reads[key] = new Wire.TxnReadDependency { Key = ByteString.CopyFromUtf8(key), Version = read.Version };
        return read.Found ? read.Value.ToStringUtf8() : null;
    }

    /// <summary>Scans [start, end) page by page at the read timestamp (not merging its own writes), recording the span and every key.</summary>
    public async Task<List<(string Key, string Value)>> ScanAsync(string start, string end)
    {
        var found = new List<(string, string)>();
        var request = new Wire.TxnScanRequest
        {
            StartKey = ByteString.CopyFromUtf8(start), EndKey = ByteString.CopyFromUtf8(end), ReadTimestamp = ReadTimestamp, Limit = 2, Stable = Stable,
        };
        _spans.Add(new Wire.TxnSpanRead { StartKey = request.StartKey, EndKey = request.EndKey });
        while (true)
        {
            var page = await AtAnyNodeAsync(id => _cluster.Txn(id).ScanAsync(request, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);
            foreach (var entry in page.Entries)
            {
                found.Add((entry.Key.ToStringUtf8(), entry.Value.ToStringUtf8()));
                _reads[entry.Key.ToStringUtf8()] = new Wire.TxnReadDependency { Key = entry.Key, Version = entry.Version };
            }
            if (page.ResumeKey.IsEmpty) return found;
            request = request.Clone();
            request.StartKey = page.ResumeKey;
        }
    }

    public void Put(string key, string value) =>
        _writes[key] = new Wire.TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };

    public void Delete(string key) => _writes[key] = new Wire.TxnWrite { Key = ByteString.CopyFromUtf8(key), Delete = true };

    /// <summary>
    /// Test of the checkers: the commit omits what the transaction read, so nothing validates its reads — a
    /// deliberately broken isolation check that a history checker must catch.
    /// </summary>
    public bool OmitReadsFromCommit { get; init; }

    /// <summary>Reads from a stable snapshot (the ranges close the read timestamp): read-only and snapshot-isolation transactions.</summary>
    public bool Stable { get; init; }

    /// <summary>Commits with snapshot isolation (reads not validated; first committer wins on writes).</summary>
    public bool SnapshotIsolation { get; init; }

    public Wire.CommitTransactionRequest CommitRequest(Wire.CommitProtocol protocol)
    {
        var request = new Wire.CommitTransactionRequest
        {
            TxnId = TxnId, ReadTimestamp = ReadTimestamp, Protocol = protocol,
            Isolation = SnapshotIsolation ? Wire.Isolation.Snapshot : Wire.Isolation.Serializable,
        };
        request.Writes.AddRange(_writes.Values);
        if (!OmitReadsFromCommit) request.Reads.AddRange(_reads.Values);
        if (Lock is not null) request.HomeKey = Lock.HomeKey;
        request.SpanReads.AddRange(_spans);
        return request;
    }

    /// <summary>Commits at <paramref name="node"/>: the commit timestamp, or null when aborted (ABORTED status).</summary>
    public async Task<Wire.Timestamp?> CommitAsync(Wire.CommitProtocol protocol = Wire.CommitProtocol.Paxos, int node = 1)
    {
        try
        {
            var response = await _cluster.Txn(node).CommitAsync(CommitRequest(protocol), deadline: DateTime.UtcNow.AddSeconds(20));
            return response.CommitTimestamp;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
        {
            Assert.NotNull(e.GetRpcStatus()?.GetDetail<Wire.TxnConflict>());
            return null;
        }
    }

    private Task<Wire.TxnReadResponse> ReadAtAnyNodeAsync(string key) =>
        AtAnyNodeAsync(id => _cluster.Txn(id).ReadAsync(
            new Wire.TxnReadRequest { Key = ByteString.CopyFromUtf8(key), ReadTimestamp = ReadTimestamp, Stable = Stable, Lock = Lock },
            deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync);

    private async Task<T> AtAnyNodeAsync<T>(Func<int, Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (int id in Enumerable.Range(1, 3).Where(_cluster.IsRunning))
            {
                try
                {
                    return await call(id);
                }
                catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                }
            }
            await Task.Delay(20);
        }
    }
}
