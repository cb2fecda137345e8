using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Mvcc;
using Kv.Txn;
using Kv.Txn.Coordination;
using Kv.Txn.Ranges;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Tests;

/// <summary>
/// Three ranges ([ , "h"), ["h", "p"), ["p", )) that apply transaction commands to real tables, one command at a
/// time per range (a log), with faults a network and a busy cluster cause: random delays, commands applied twice
/// (a retried proposal), and answers lost after the command applied (the caller sees an error).
/// </summary>
internal sealed class InMemoryRanges : ITxnRanges, ITxnClock, IDisposable
{
    private static readonly string[] Starts = ["", "h", "p"];
    private readonly RangeFixture _store = new();
    private readonly RangeTxnTable[] _tables;
    private readonly SemaphoreSlim[] _logs = [new(1), new(1), new(1)];
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private long _clockNanos = 100_000_000_000;

    public InMemoryRanges(int seed, double faultRate)
    {
        _random = new Random(seed);
        FaultRate = faultRate;
        _tables = [_store.Table, _store.Other(8), _store.Other(9)];
    }

    public double FaultRate { get; set; }

    public int LockCount => _tables.Sum(t => t.LockCount);

    public (ulong RangeId, byte[] Start, byte[]? End) Locate(ReadOnlySpan<byte> key)
    {
        int i = Index(key);
        return ((ulong)i, System.Text.Encoding.UTF8.GetBytes(Starts[i]), i + 1 < Starts.Length ? System.Text.Encoding.UTF8.GetBytes(Starts[i + 1]) : null);
    }

    public async Task<RangeCommandResult> ProposeAsync(ulong rangeId, RangeCommand command, CancellationToken cancellationToken)
    {
        await Task.Delay(Roll(0.5) ? Next(0, 4) : 0, cancellationToken).ConfigureAwait(false);
        var result = await ApplyAsync((int)rangeId, command, cancellationToken).ConfigureAwait(false);
        if (Roll(FaultRate)) await ApplyAsync((int)rangeId, command, cancellationToken).ConfigureAwait(false); // a duplicate
        if (Roll(FaultRate)) throw new IOException("the answer was lost");
        return result;
    }

    public ValueTask<StorageTimestamp> NowAboveAsync(StorageTimestamp floor, CancellationToken cancellationToken)
    {
        long now = Interlocked.Add(ref _clockNanos, 1_000);
        if (floor.WallNanos >= now) now = Interlocked.Exchange(ref _clockNanos, floor.WallNanos + 1_000) + 1_000;
        return ValueTask.FromResult(new StorageTimestamp(now, 0));
    }

    public string? Value(string key)
    {
        var read = _store.Mvcc.Get(System.Text.Encoding.UTF8.GetBytes(key), StorageTimestamp.Max);
        return read.HasValue ? System.Text.Encoding.UTF8.GetString(read.Value!) : null;
    }

    /// <summary>Some lock on <paramref name="key"/>, or null.</summary>
    public TxnLock? LockOn(string key)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(key);
        return _tables[Index(bytes)].LocksOn(bytes).FirstOrDefault();
    }

    /// <summary>The list a key holds at a timestamp (committed versions only) and that version's timestamp.</summary>
    public (List<long> List, StorageTimestamp Version) ReadAt(string key, StorageTimestamp at)
    {
        var read = _store.Mvcc.Get(System.Text.Encoding.UTF8.GetBytes(key), at);
        var text = read.Value is null ? "" : System.Text.Encoding.UTF8.GetString(read.Value);
        var list = text.Length == 0 ? [] : text.Split(',').Select(v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return (list, read.VersionTimestamp);
    }

    private async Task<RangeCommandResult> ApplyAsync(int range, RangeCommand command, CancellationToken cancellationToken)
    {
        await _logs[range].WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = await NowAboveAsync(StorageTimestamp.Zero, cancellationToken).ConfigureAwait(false);
            var table = _tables[range];
            var data = new Data(_store);
            using var batch = new WriteBatch();
            var txn = command.OpCase switch
            {
                RangeCommand.OpOneofCase.TxnStage => table.Stage(batch, command.TxnStage, now, data),
                RangeCommand.OpOneofCase.TxnRecord => table.ApplyRecord(batch, command.TxnRecord, now),
                RangeCommand.OpOneofCase.TxnPrevent => table.Prevent(batch, command.TxnPrevent, now),
                RangeCommand.OpOneofCase.TxnResolve => table.Resolve(batch, command.TxnResolve, now, data).Result,
                _ => throw new InvalidOperationException("not a transaction command"),
            };
            _store.Mvcc.Write(batch);
            return new RangeCommandResult { Succeeded = txn.Ok, Txn = txn };
        }
        finally
        {
            _logs[range].Release();
        }
    }

    private static int Index(ReadOnlySpan<byte> key)
    {
        int i = 0;
        for (int j = 1; j < Starts.Length; j++)
            if (key.SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(Starts[j])) >= 0) i = j;
        return i;
    }

    private bool Roll(double p)
    {
        lock (_randomGate) return _random.NextDouble() < p;
    }

    private int Next(int min, int max)
    {
        lock (_randomGate) return _random.Next(min, max);
    }

    public void Dispose() => _store.Dispose();

    private sealed class Data(RangeFixture store) : ITxnRangeData
    {
        public (bool Exists, StorageTimestamp Version) NewestVersion(ReadOnlySpan<byte> key)
        {
            var read = store.Mvcc.Get(key, StorageTimestamp.Max);
            return (read.VersionTimestamp > StorageTimestamp.Zero, read.VersionTimestamp);
        }

        public bool ChangedAfter(byte[] start, byte[]? end, StorageTimestamp after) =>
            store.Mvcc.Scan(new KeySpan(start, end), StorageTimestamp.Max, 10_000).Entries.Any(e => e.Result.VersionTimestamp > after);

        public void WriteCommitted(WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, StorageTimestamp timestamp)
        {
            if (value is null) store.Mvcc.Delete(batch, key, timestamp);
            else store.Mvcc.Put(batch, key, value, timestamp);
        }
    }
}

/// <summary>A two-phase decision log in memory, and decisions asked of the one coordinator.</summary>
internal sealed class InMemoryDecisions(Func<TxnCoordinator> coordinator) : ITwoPhaseDecisionLog, ITwoPhaseDecisionSource
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (bool, StorageTimestamp)> _log = new();

    public Task RecordAsync(ByteString txnId, bool commit, StorageTimestamp commitTs, CancellationToken cancellationToken)
    {
        _log[TxnWire.Hex(txnId)] = (commit, commitTs);
        return Task.CompletedTask;
    }

    public (bool Commit, StorageTimestamp CommitTs)? Find(ByteString txnId) => _log.TryGetValue(TxnWire.Hex(txnId), out var d) ? d : null;

    public Task<(TwoPhaseDecision Decision, StorageTimestamp CommitTs)> QueryAsync(ulong coordinatorNodeId, ByteString txnId, CancellationToken cancellationToken) =>
        coordinator().TwoPhaseDecisionAsync(txnId, cancellationToken);
}
