using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Txn;
using Kv.Txn.Ranges;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Tests;

/// <summary>
/// One range's transaction table over a real RocksDB in a temporary directory, each command applied in its own
/// written batch, as a range replica applies its log. Log time is a counter in seconds the test moves.
/// </summary>
internal sealed class RangeFixture : ITxnRangeData, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "kv-txn-" + Guid.NewGuid().ToString("N"));
    private NodeStore _store;
    private MvccStore _mvcc;
    private MetaStore _meta;

    public RangeFixture()
    {
        _store = NodeStore.Open(_path);
        _mvcc = new MvccStore(_store);
        _meta = new MetaStore(_store);
        Table = new RangeTxnTable(7, _mvcc, _meta);
    }

    public RangeTxnTable Table { get; private set; }

    public MvccStore Mvcc => _mvcc;

    /// <summary>The log's timestamp for the next command (seconds since an arbitrary start).</summary>
    public double NowSeconds { get; set; } = 45;

    public StorageTimestamp Now => At(NowSeconds);

    public static StorageTimestamp At(double seconds) => new((long)(seconds * 1e9), 0);

    public static Kv.Proto.V1.Timestamp Wire(double seconds) => TxnWire.ToWire(At(seconds));

    public T Apply<T>(Func<WriteBatch, T> command)
    {
        using var batch = new WriteBatch();
        var result = command(batch);
        _mvcc.Write(batch);
        return result;
    }

    public TxnCommandResult Stage(TxnStage stage) => Apply(b => Table.Stage(b, stage, Now, this));

    public TxnCommandResult Resolve(ByteString txn, bool commit, double commitSeconds, params string[] keys)
    {
        var resolve = new TxnResolve { TxnId = txn, Commit = commit, CommitTimestamp = Wire(commitSeconds) };
        resolve.Keys.AddRange(keys.Select(ByteString.CopyFromUtf8));
        return Apply(b => Table.Resolve(b, resolve, Now, this).Result);
    }

    public TxnCommandResult Record(TxnRecordOp.Types.Kind kind, ByteString txn, double commitSeconds = 0, string home = "home") =>
        Apply(b => Table.ApplyRecord(b, new TxnRecordOp { Kind = kind, TxnId = txn, HomeKey = ByteString.CopyFromUtf8(home), CommitTimestamp = Wire(commitSeconds) }, Now));

    public TxnCommandResult Prevent(ByteString txn, string key) =>
        Apply(b => Table.Prevent(b, new TxnPrevent { TxnId = txn, Key = ByteString.CopyFromUtf8(key) }, Now));

    public void PutCommitted(string key, string value, double atSeconds) => _mvcc.Put(System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(value), At(atSeconds));

    public MvccReadResult Read(string key) => _mvcc.Get(System.Text.Encoding.UTF8.GetBytes(key), StorageTimestamp.Max);

    /// <summary>Reopens the database and reloads the table from what is stored, as a restart does.</summary>
    public void Restart()
    {
        _mvcc.Dispose();
        _store.Dispose();
        _store = NodeStore.Open(_path);
        _mvcc = new MvccStore(_store);
        _meta = new MetaStore(_store);
        Table = new RangeTxnTable(7, _mvcc, _meta);
    }

    /// <summary>The table of another range id on the same store (a split's right half).</summary>
    public RangeTxnTable Other(ulong rangeId) => new(rangeId, _mvcc, _meta);

    public static ByteString NewTxn() => ByteString.CopyFrom(Guid.NewGuid().ToByteArray());

    public static TxnStage StageOf(ByteString txn, double commitSeconds, (string Key, string? Value)[]? writes = null,
        (string Key, double? Version)[]? reads = null, (string Start, string End)[]? spans = null, double readSeconds = 0)
    {
        var stage = new TxnStage { TxnId = txn, HomeKey = ByteString.CopyFromUtf8("home"), CommitTimestamp = Wire(commitSeconds), ReadTimestamp = Wire(readSeconds) };
        foreach (var (key, value) in writes ?? [])
            stage.Writes.Add(new TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value ?? ""), Delete = value is null });
        foreach (var (key, version) in reads ?? [])
            stage.Reads.Add(new TxnReadDependency { Key = ByteString.CopyFromUtf8(key), Version = version is { } v ? Wire(v) : null });
        foreach (var (start, end) in spans ?? [])
            stage.SpanReads.Add(new TxnSpanRead { StartKey = ByteString.CopyFromUtf8(start), EndKey = ByteString.CopyFromUtf8(end) });
        return stage;
    }

    (bool Exists, StorageTimestamp Version) ITxnRangeData.NewestVersion(ReadOnlySpan<byte> key)
    {
        var read = _mvcc.Get(key, StorageTimestamp.Max);
        return (read.VersionTimestamp > StorageTimestamp.Zero, read.VersionTimestamp);
    }

    bool ITxnRangeData.ChangedAfter(byte[] start, byte[]? end, StorageTimestamp after) =>
        _mvcc.Scan(new KeySpan(start, end), StorageTimestamp.Max, 10_000).Entries.Any(e => e.Result.VersionTimestamp > after);

    void ITxnRangeData.WriteCommitted(WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, StorageTimestamp timestamp)
    {
        if (value is null) _mvcc.Delete(batch, key, timestamp);
        else _mvcc.Put(batch, key, value, timestamp);
    }

    public void Dispose()
    {
        _mvcc.Dispose();
        _store.Dispose();
        try
        {
            Directory.Delete(_path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
