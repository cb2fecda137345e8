using Google.Protobuf;
using Kv.Paxos;
using Kv.Proto.V1;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Txn;
using Kv.Txn.Ranges;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Ranges;

/// <summary>
/// The state machine of one range replica: applies the range's chosen commands, in slot order, to the node's MVCC
/// data, with each command's leaseholder-assigned timestamp. Everything one application changes — versions, the
/// client sessions that make retried writes apply once, and the applied index — goes into the caller's single
/// WriteBatch, so after a crash the three agree and the log replays from the applied index.
/// </summary>
public sealed partial class RangeStateMachine : ITxnRangeData
{
    private readonly ulong _rangeId;
    private readonly RangeTxnTable _txns;
    private readonly MvccStore _mvcc;
    private readonly MetaStore _meta;
    private readonly Dictionary<long, (long Sequence, RangeCommandResult Result)> _sessions = new();
    private bool _descriptorPersisted;

    // Writes of the batch being built, so that a later command in the same batch reads them (the batch is not
    // readable through RocksDB until it is written).
    private readonly Dictionary<string, (bool Found, byte[] Value, StorageTimestamp Version)> _unwritten = new(StringComparer.Ordinal);

    /// <summary>
    /// Loads the descriptor, the applied index and the client sessions persisted for the range. A range with no
    /// stored descriptor gets <paramref name="initialSpan"/> at generation 1 (it is persisted with the first apply).
    /// </summary>
    public RangeStateMachine(ulong rangeId, KeySpan initialSpan, MvccStore mvcc, MetaStore meta)
    {
        _rangeId = rangeId;
        _mvcc = mvcc;
        _meta = meta;
        _txns = new RangeTxnTable(rangeId, mvcc, meta);
        _descriptorPersisted = meta.TryGet(RangeStateKeys.State(rangeId), out var stored);
        Descriptor = stored is not null
            ? MetaStore.Decode(RangeStateKeys.State(rangeId), stored, RangeState.Parser.ParseFrom).Range
            : Descriptors.Create(rangeId, initialSpan, 1, []);
        Span = Descriptors.SpanOf(Descriptor);
        if (IsMeta)
        {
            LoadDirectory();
            LoadSnapshots();
        }
        if (meta.TryGet(RangeStateKeys.Applied(rangeId), out var applied))
        {
            AppliedUpTo = BitConverter.ToInt64(applied);
            LastAppliedTimestamp = new StorageTimestamp(BitConverter.ToInt64(applied.AsSpan(8)), BitConverter.ToInt32(applied.AsSpan(16)));
        }
        foreach (var (key, value) in meta.List(RangeStateKeys.SessionPrefix(rangeId)))
        {
            long client = long.Parse(key.AsSpan(RangeStateKeys.SessionPrefix(rangeId).Length), System.Globalization.CultureInfo.InvariantCulture);
            long sequence = BitConverter.ToInt64(value);
            _sessions[client] = (sequence, RangeCommandResult.Parser.ParseFrom(value.AsSpan(8)));
        }
    }

    /// <summary>What the range keeps about transactions (records, locks); read it on the host's loop only.</summary>
    public RangeTxnTable Transactions => _txns;

    /// <summary>The range's id.</summary>
    public ulong RangeId => _rangeId;

    /// <summary>The range as of the last applied command: span, generation, replicas (no endpoints).</summary>
    public RangeDescriptor Descriptor { get; private set; }

    /// <summary>The user keys this range owns (the meta range owns none and refuses user commands).</summary>
    public KeySpan Span { get; private set; }

    /// <summary>Whether the replica's state is stored (false for a replica created empty, until its snapshot is in).</summary>
    public bool HasState => _descriptorPersisted;

    /// <summary>Whether this is the meta range.</summary>
    public bool IsMeta => _rangeId == Ranges.RangeIds.Meta;

    /// <summary>Every slot below this has been applied (as of the last batch handed out).</summary>
    public long AppliedUpTo { get; private set; }

    /// <summary>
    /// The timestamp of the last applied write. Commands apply at a timestamp above it even if their proposer's
    /// clock was behind (a new leaseholder may propose before it has applied its predecessor's commands), so
    /// versions of the range always order as the log does. Every replica bumps alike: it depends only on the log.
    /// </summary>
    public StorageTimestamp LastAppliedTimestamp { get; private set; }

    /// <summary>
    /// Applies chosen entries, which must continue exactly at <see cref="AppliedUpTo"/>, into
    /// <paramref name="batch"/>. The caller writes the batch; until then reads do not see the changes.
    /// </summary>
    public IReadOnlyList<AppliedCommand> Apply(WriteBatch batch, IReadOnlyList<ChosenEntry> entries)
    {
        var results = new List<AppliedCommand>();
        _unwritten.Clear();
        foreach (var entry in entries)
        {
            if (entry.Slot != AppliedUpTo)
                throw new InvalidOperationException($"Range {_rangeId}: slot {entry.Slot} handed to the state machine, which expects {AppliedUpTo}.");
            foreach (var command in entry.Value.Commands) results.Add(ApplyOne(batch, entry.Slot, command));
            AppliedUpTo = entry.Slot + 1;
        }
        if (entries.Count > 0) _meta.Put(batch, RangeStateKeys.Applied(_rangeId), EncodeApplied(AppliedUpTo, LastAppliedTimestamp));
        if (!_descriptorPersisted && entries.Count > 0)
        {
            _meta.Put(batch, RangeStateKeys.State(_rangeId), new RangeState { Range = Descriptor }.ToByteArray());
            _descriptorPersisted = true;
        }
        return results;
    }

    private static byte[] EncodeSession(long sequence, RangeCommandResult result)
    {
        var stored = new byte[8 + result.CalculateSize()];
        BitConverter.TryWriteBytes(stored, sequence);
        result.WriteTo(stored.AsSpan(8));
        return stored;
    }

    private static byte[] EncodeApplied(long appliedUpTo, StorageTimestamp last)
    {
        var state = new byte[20];
        BitConverter.TryWriteBytes(state, appliedUpTo);
        BitConverter.TryWriteBytes(state.AsSpan(8), last.WallNanos);
        BitConverter.TryWriteBytes(state.AsSpan(16), last.Logical);
        return state;
    }

    /// <summary>Scans a page of the range's committed versions at <paramref name="timestamp"/> (default: the latest), clipped to the range.</summary>
    public MvccScanPage Scan(KeySpan span, int limit, bool reverse, byte[]? resumeKey, StorageTimestamp? timestamp = null) =>
        _mvcc.Scan(Clip(span), timestamp ?? StorageTimestamp.Max, limit, reverse, resumeKey);

    private KeySpan Clip(KeySpan span)
    {
        byte[] start = Compare(span.Start, Span.Start) >= 0 ? span.Start : Span.Start;
        byte[]? end = span.End is null ? Span.End : Span.End is null ? span.End : Compare(span.End, Span.End) <= 0 ? span.End : Span.End;
        return new KeySpan(start, end);
    }

    private static int Compare(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    /// <summary>Reads a key at a timestamp from the node's MVCC data.</summary>
    public MvccReadResult Read(ReadOnlySpan<byte> key, StorageTimestamp timestamp) => _mvcc.Get(key, timestamp);

    private AppliedCommand ApplyOne(WriteBatch batch, long slot, Command command)
    {
        if (command.ClientId != 0 && _sessions.TryGetValue(command.ClientId, out var session) && command.Sequence <= session.Sequence)
        {
            // A retry of an applied write: answer as the first time, change nothing.
            var original = command.Sequence == session.Sequence
                ? session.Result
                : new RangeCommandResult { Succeeded = false, Error = "a newer write of this client was already applied" };
            return new AppliedCommand(slot, command.ClientId, command.Sequence, original, Duplicate: true);
        }
        RangeCommandResult result;
        try
        {
            result = Execute(batch, slot, RangeCommand.Parser.ParseFrom(command.Payload.Span));
        }
        catch (InvalidProtocolBufferException e)
        {
            // Every replica reaches the same verdict on the same bytes, so rejecting keeps them identical.
            result = new RangeCommandResult { Succeeded = false, Error = $"malformed command: {e.Message}" };
        }
        // A write refused for a transaction's lock changed nothing and will be proposed again with the same
        // sequence once the lock is gone, so the range must not remember it as done.
        if (command.ClientId != 0 && result.LockedBy is null)
        {
            _sessions[command.ClientId] = (command.Sequence, result);
            _meta.Put(batch, RangeStateKeys.Session(_rangeId, command.ClientId), EncodeSession(command.Sequence, result));
        }
        return new AppliedCommand(slot, command.ClientId, command.Sequence, result, Duplicate: false);
    }

    private RangeCommandResult Execute(WriteBatch batch, long slot, RangeCommand command)
    {
        var ts = new StorageTimestamp(command.Timestamp?.WallNanos ?? 0, command.Timestamp?.Logical ?? 0);
        if (ts <= StorageTimestamp.Zero) return new RangeCommandResult { Error = "command has no timestamp" };
        if (ts <= LastAppliedTimestamp) ts = new StorageTimestamp(LastAppliedTimestamp.WallNanos, LastAppliedTimestamp.Logical + 1);
        LastAppliedTimestamp = ts;
        var newVersion = new Proto.V1.Timestamp { WallNanos = ts.WallNanos, Logical = ts.Logical };
        _txns.Expire(batch, ts);
        bool metaOp = IsMetaOp(command.OpCase);
        if (metaOp != IsMeta)
            return new RangeCommandResult { Error = IsMeta ? "the meta range holds no user keys" : $"range {_rangeId} is not the meta range" };
        switch (command.OpCase)
        {
            case RangeCommand.OpOneofCase.Split:
                return Split(batch, slot, command.Split);
            case RangeCommand.OpOneofCase.MetaUpdate:
                return UpdateDirectory(batch, command.MetaUpdate);
            case RangeCommand.OpOneofCase.AllocateRangeIds:
                return AllocateRangeIds(batch, command.AllocateRangeIds);
            case RangeCommand.OpOneofCase.SnapshotPiece:
                return SnapshotPiece(batch, command.SnapshotPiece);
            case RangeCommand.OpOneofCase.SnapshotPublish:
                return PublishSnapshot(batch, command.SnapshotPublish);
            case RangeCommand.OpOneofCase.SnapshotAbort:
                return AbortSnapshot(batch, command.SnapshotAbort);
            case RangeCommand.OpOneofCase.SnapshotDelete:
                return DeleteSnapshot(batch, command.SnapshotDelete);
            case RangeCommand.OpOneofCase.TxnStage:
            case RangeCommand.OpOneofCase.TxnRecord:
            case RangeCommand.OpOneofCase.TxnPrevent:
            case RangeCommand.OpOneofCase.TxnResolve:
            case RangeCommand.OpOneofCase.TxnClose:
                return ExecuteTxn(batch, command, ts);
            case RangeCommand.OpOneofCase.Put:
                if (!Span.Contains(command.Put.Key.Span)) return OutsideRange();
                if (_txns.BlockingPlainWrite(command.Put.Key.Span) is { } putLock) return new RangeCommandResult { LockedBy = putLock };
                Put(batch, command.Put.Key.Span, command.Put.Value.Span, ts);
                return new RangeCommandResult { Succeeded = true, NewVersion = newVersion };
            case RangeCommand.OpOneofCase.Delete:
            {
                if (!Span.Contains(command.Delete.Key.Span)) return OutsideRange();
                if (_txns.BlockingPlainWrite(command.Delete.Key.Span) is { } deleteLock) return new RangeCommandResult { LockedBy = deleteLock };
                bool found = ReadCurrent(command.Delete.Key.Span, ts).Found;
                if (found) Delete(batch, command.Delete.Key.Span, ts);
                return new RangeCommandResult { Succeeded = true, Found = found, NewVersion = newVersion };
            }
            case RangeCommand.OpOneofCase.CompareAndSet:
                return CompareAndSet(batch, command.CompareAndSet, ts, newVersion);
            default:
                return new RangeCommandResult { Error = "empty command" };
        }
    }

    private RangeCommandResult CompareAndSet(WriteBatch batch, RangeCompareAndSet cas, StorageTimestamp ts, Proto.V1.Timestamp newVersion)
    {
        if (!Span.Contains(cas.Key.Span)) return OutsideRange();
        if (_txns.BlockingPlainWrite(cas.Key.Span) is { } casLock) return new RangeCommandResult { LockedBy = casLock };
        var current = ReadCurrent(cas.Key.Span, ts);
        bool holds = cas.ConditionCase switch
        {
            RangeCompareAndSet.ConditionOneofCase.ExpectAbsent => !current.Found,
            RangeCompareAndSet.ConditionOneofCase.ExpectedVersion => current.Found
                && current.Version == new StorageTimestamp(cas.ExpectedVersion.WallNanos, cas.ExpectedVersion.Logical),
            RangeCompareAndSet.ConditionOneofCase.ExpectedValue => current.Found && cas.ExpectedValue.Span.SequenceEqual(current.Value),
            _ => false,
        };
        if (!holds)
        {
            return new RangeCommandResult
            {
                Succeeded = false,
                Found = current.Found,
                CurrentValue = current.Found ? ByteString.CopyFrom(current.Value) : ByteString.Empty,
                CurrentVersion = current.Found ? new Proto.V1.Timestamp { WallNanos = current.Version.WallNanos, Logical = current.Version.Logical } : null,
            };
        }
        if (cas.HasNewValue) Put(batch, cas.Key.Span, cas.NewValue.Span, ts);
        else if (current.Found) Delete(batch, cas.Key.Span, ts);
        return new RangeCommandResult { Succeeded = true, Found = current.Found, NewVersion = newVersion };
    }

    private (bool Found, byte[] Value, StorageTimestamp Version) ReadCurrent(ReadOnlySpan<byte> key, StorageTimestamp ts)
    {
        if (_unwritten.TryGetValue(Convert.ToHexString(key), out var pending)) return pending;
        var read = _mvcc.Get(key, ts);
        return (read.HasValue, read.Value ?? [], read.VersionTimestamp);
    }

    private void Put(WriteBatch batch, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, StorageTimestamp ts)
    {
        _mvcc.Put(batch, key, value, ts);
        _unwritten[Convert.ToHexString(key)] = (true, value.ToArray(), ts);
    }

    private void Delete(WriteBatch batch, ReadOnlySpan<byte> key, StorageTimestamp ts)
    {
        _mvcc.Delete(batch, key, ts);
        _unwritten[Convert.ToHexString(key)] = (false, [], ts);
    }

    private RangeCommandResult OutsideRange() =>
        new() { Succeeded = false, Error = $"key outside range {_rangeId} ({Span})" };
}
