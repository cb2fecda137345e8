using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// One key of a transaction: its write (if it writes it) and the version it read (if it read it); or a span it
/// scanned (<see cref="Span"/>, whose start is <see cref="Key"/>), cut at range boundaries before it is staged.
/// </summary>
public sealed record StageItem(ByteString Key, TxnWrite? Write, TxnReadDependency? Read, TxnSpanRead? Span = null);

/// <summary>
/// A transaction as the coordinator commits it: its id, read timestamp, and one item per key (the last write of a
/// key wins; a key both read and written is validated and written). The home key, which holds the record, is the
/// first written key (the first read key for a read-only transaction).
/// </summary>
public sealed class CommitPlan
{
    private CommitPlan(ByteString txnIdBytes, TxnId txnId, StorageTimestamp readTimestamp, IReadOnlyList<StageItem> items, bool snapshotIsolation,
        long priority, ByteString pessimisticHomeKey, ByteString? homeKey = null)
    {
        SnapshotIsolation = snapshotIsolation;
        Priority = priority != 0 ? priority : readTimestamp.WallNanos;
        TxnIdBytes = txnIdBytes;
        TxnId = txnId;
        ReadTimestamp = readTimestamp;
        Items = items;
        Pessimistic = !pessimisticHomeKey.IsEmpty;
        HomeKey = Pessimistic ? pessimisticHomeKey
            : homeKey ?? items.FirstOrDefault(i => i.Write is not null)?.Key ?? items.FirstOrDefault()?.Key ?? ByteString.Empty;
        // The commit lands above what it read and above the snapshot it read at.
        Floor = items.Where(i => i.Read is not null).Select(i => TxnWire.ToStorage(i.Read!.Version)).Append(readTimestamp).Max();
    }

    /// <summary>The id on the wire.</summary>
    public ByteString TxnIdBytes { get; }

    /// <summary>The id.</summary>
    public TxnId TxnId { get; }

    /// <summary>The snapshot the transaction read at.</summary>
    public StorageTimestamp ReadTimestamp { get; }

    /// <summary>One item per key, in the order the keys first appeared.</summary>
    public IReadOnlyList<StageItem> Items { get; }

    /// <summary>The key whose range keeps the transaction's record.</summary>
    public ByteString HomeKey { get; }

    /// <summary>The commit timestamp must be above this.</summary>
    public StorageTimestamp Floor { get; }

    /// <summary>Snapshot isolation: reads are not validated or locked; writes conflict with anything newer than the snapshot.</summary>
    public bool SnapshotIsolation { get; }

    /// <summary>Wound-wait priority: smaller is older and stronger.</summary>
    public long Priority { get; }

    /// <summary>
    /// A pessimistic transaction: its reads were taken under read locks, and its record (PENDING, kept alive by the
    /// client's heartbeats) is already at <see cref="HomeKey"/>, which need not be one of its keys.
    /// </summary>
    public bool Pessimistic { get; }

    /// <summary>Whether the transaction writes anything.</summary>
    public bool HasWrites => Items.Any(i => i.Write is not null);

    /// <summary>Checks a request and builds its plan.</summary>
    /// <exception cref="ArgumentException">The request is malformed (the message says which field and why).</exception>
    public static CommitPlan From(CommitTransactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var txnId = TxnWire.ToTxnId(request.TxnId);
        var readTs = TxnWire.ToStorage(request.ReadTimestamp);
        if (readTs <= StorageTimestamp.Zero) throw new ArgumentException("read_timestamp: required (from Begin)");
        var items = new List<StageItem>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var write in request.Writes)
        {
            if (write.Key.IsEmpty) throw new ArgumentException("writes: a key is empty");
            string hex = TxnWire.Hex(write.Key);
            if (index.TryGetValue(hex, out int at)) items[at] = items[at] with { Write = write };
            else { index[hex] = items.Count; items.Add(new StageItem(write.Key, write, null)); }
        }
        foreach (var read in request.Reads)
        {
            if (read.Key.IsEmpty) throw new ArgumentException("reads: a key is empty");
            // Under a read lock a pessimistic read returns the newest version, which may be above the read timestamp.
            if (TxnWire.ToStorage(read.Version) > readTs && request.HomeKey.IsEmpty)
                throw new ArgumentException("reads: a version is above the read timestamp");
            string hex = TxnWire.Hex(read.Key);
            if (index.TryGetValue(hex, out int at))
            {
                if (items[at].Read is { } earlier && !earlier.Version.Equals(read.Version))
                    throw new ArgumentException("reads: one key with two different versions");
                items[at] = items[at] with { Read = read };
            }
            else { index[hex] = items.Count; items.Add(new StageItem(read.Key, null, read)); }
        }
        foreach (var span in request.SpanReads)
        {
            if (!span.EndKey.IsEmpty && span.StartKey.Span.SequenceCompareTo(span.EndKey.Span) >= 0)
                throw new ArgumentException("span_reads: an end_key is not above its start_key");
            items.Add(new StageItem(span.StartKey, null, null, span));
        }
        if (items.Count > TxnLimits.KeysMax) throw new ArgumentException($"writes, reads: more than {TxnLimits.KeysMax} keys in one transaction");
        bool snapshot = request.Isolation == Isolation.Snapshot;
        if (!snapshot && request.Isolation != Isolation.Serializable) throw new ArgumentException($"isolation: unknown value {(int)request.Isolation}");
        // Under snapshot isolation only the writes take part: nothing validates or locks what was read.
        if (snapshot) items = items.Where(i => i.Write is not null).Select(i => i with { Read = null }).ToList();
        if (snapshot && !request.HomeKey.IsEmpty) throw new ArgumentException("home_key: pessimistic (locking) reads are for serializable transactions");
        return new CommitPlan(request.TxnId, txnId, readTs, items, snapshot, request.Priority, request.HomeKey);
    }

    /// <summary>
    /// One range's part of a transaction the client stages itself (<c>TxnStageRequest</c>): its keys there, with the
    /// whole transaction's <paramref name="homeKey"/>. Scans and locking reads commit through the coordinator instead.
    /// </summary>
    /// <exception cref="ArgumentException">The part is malformed (the message says which field and why).</exception>
    public static CommitPlan ForPart(CommitTransactionRequest part, ByteString homeKey)
    {
        ArgumentNullException.ThrowIfNull(part);
        ArgumentNullException.ThrowIfNull(homeKey);
        if (part.SpanReads.Count > 0) throw new ArgumentException("part.span_reads: a transaction that scanned commits with Commit, not Stage");
        if (!part.HomeKey.IsEmpty) throw new ArgumentException("part.home_key: a transaction with locking reads commits with Commit, not Stage");
        if (homeKey.IsEmpty) throw new ArgumentException("home_key: required (the transaction's first written key)");
        var whole = From(part);
        if (whole.Items.Count == 0) throw new ArgumentException("part: no keys");
        return new CommitPlan(part.TxnId, whole.TxnId, whole.ReadTimestamp, whole.Items, whole.SnapshotIsolation, part.Priority, ByteString.Empty, homeKey);
    }

    /// <summary>
    /// A staged transaction as its finisher needs it (<c>TxnFinishRequest</c>): its id, home key, priority and every
    /// key it staged, each as a write (what is written no longer matters, only where its locks are).
    /// </summary>
    /// <exception cref="ArgumentException">The request is malformed.</exception>
    public static CommitPlan ForFinish(ByteString txnId, ByteString homeKey, long priority, IReadOnlyList<ByteString> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var id = TxnWire.ToTxnId(txnId);
        if (homeKey is not { IsEmpty: false }) throw new ArgumentException("home_key: required (the transaction's first written key)");
        if (keys.Count > TxnLimits.KeysMax) throw new ArgumentException($"keys: more than {TxnLimits.KeysMax}");
        if (keys.Any(k => k.IsEmpty)) throw new ArgumentException("keys: a key is empty");
        if (!keys.Contains(homeKey)) throw new ArgumentException("keys: must include home_key");
        var items = keys.Distinct().Select(k => new StageItem(k, new TxnWrite { Key = k }, null)).ToList();
        return new CommitPlan(txnId, id, StorageTimestamp.Zero, items, snapshotIsolation: false, priority, ByteString.Empty, homeKey);
    }

    /// <summary>The items with every scanned span cut where the ranges (as <paramref name="locate"/> knows them) end.</summary>
    public List<StageItem> CutAtRanges(Func<ByteString, (ulong RangeId, byte[] Start, byte[]? End)> locate)
    {
        var cut = new List<StageItem>(Items.Count);
        foreach (var item in Items)
        {
            if (item.Span is null)
            {
                cut.Add(item);
                continue;
            }
            cut.AddRange(CutAtRanges(item.Span, locate).Select(piece => new StageItem(piece.StartKey, null, null, piece)));
        }
        return cut;
    }

    /// <summary><paramref name="span"/> cut where the ranges (as <paramref name="locate"/> knows them) end, in order.</summary>
    public static List<TxnSpanRead> CutAtRanges(TxnSpanRead span, Func<ByteString, (ulong RangeId, byte[] Start, byte[]? End)> locate)
    {
        ArgumentNullException.ThrowIfNull(span);
        ArgumentNullException.ThrowIfNull(locate);
        var pieces = new List<TxnSpanRead>();
        var start = span.StartKey;
        while (true)
        {
            var (_, _, rangeEnd) = locate(start);
            bool last = rangeEnd is null || (!span.EndKey.IsEmpty && span.EndKey.Span.SequenceCompareTo(rangeEnd) <= 0);
            var piece = new TxnSpanRead { StartKey = start, EndKey = last ? span.EndKey : ByteString.CopyFrom(rangeEnd) };
            pieces.Add(piece);
            if (last) return pieces;
            start = piece.EndKey;
        }
    }

    /// <summary>The stage command of some of the items.</summary>
    public RangeCommand StageCommand(IEnumerable<StageItem> items, StorageTimestamp commitTs, CommitProtocol protocol, ulong coordinatorNodeId)
    {
        var stage = new TxnStage
        {
            TxnId = TxnIdBytes,
            HomeKey = HomeKey,
            CommitTimestamp = TxnWire.ToWire(commitTs),
            Protocol = protocol,
            CoordinatorNodeId = coordinatorNodeId,
            ReadTimestamp = TxnWire.ToWire(ReadTimestamp),
            SnapshotIsolation = SnapshotIsolation,
            Priority = Priority,
        };
        foreach (var item in items)
        {
            if (item.Write is not null) stage.Writes.Add(item.Write);
            if (item.Read is not null) stage.Reads.Add(item.Read);
            if (item.Span is not null) stage.SpanReads.Add(item.Span);
        }
        return new RangeCommand { TxnStage = stage };
    }
}
