using Google.Protobuf;
using Kv.Proto.V1;
using RocksDbSharp;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Ranges;

/// <summary>Transaction commands (docs/transactions.md): the rules are <see cref="Kv.Txn.Ranges.RangeTxnTable"/>'s; this checks spans and timestamps.</summary>
public sealed partial class RangeStateMachine
{
    private RangeCommandResult ExecuteTxn(WriteBatch batch, RangeCommand command, StorageTimestamp ts)
    {
        try
        {
            switch (command.OpCase)
            {
                case RangeCommand.OpOneofCase.TxnStage:
                {
                    var stage = command.TxnStage;
                    if (stage.Writes.Count + stage.Reads.Count > Kv.Txn.TxnLimits.KeysMax) return TxnError("too many keys in one stage");
                    if (stage.Writes.Any(w => !Span.Contains(w.Key.Span)) || stage.Reads.Any(r => !Span.Contains(r.Key.Span))
                        || stage.SpanReads.Any(s => !Covers(s))) return OutsideRange();
                    return Done(_txns.Stage(batch, stage, ts, this));
                }
                case RangeCommand.OpOneofCase.TxnRecord:
                    if (!Span.Contains(command.TxnRecord.HomeKey.Span)) return OutsideRange();
                    return Done(_txns.ApplyRecord(batch, command.TxnRecord, ts));
                case RangeCommand.OpOneofCase.TxnPrevent:
                    if (!Span.Contains(command.TxnPrevent.Key.Span)) return OutsideRange();
                    return Done(_txns.Prevent(batch, command.TxnPrevent, ts));
                case RangeCommand.OpOneofCase.TxnClose:
                {
                    var closed = Kv.Txn.TxnWire.ToStorage(command.TxnClose.Closed);
                    _txns.Close(batch, closed);
                    // Plain writes from now on land above it too.
                    if (closed > LastAppliedTimestamp) LastAppliedTimestamp = closed;
                    return Done(new TxnCommandResult { Ok = true });
                }
                default:
                {
                    var resolve = command.TxnResolve;
                    if (resolve.Keys.Any(k => !Span.Contains(k.Span))) return OutsideRange();
                    var (result, committedAt) = _txns.Resolve(batch, resolve, ts, this);
                    // Whatever this range writes from now on lands above the commit: the transaction's reads and
                    // writes stay where the serial order put them.
                    if (committedAt is { } c && c > LastAppliedTimestamp) LastAppliedTimestamp = c;
                    return Done(result);
                }
            }
        }
        catch (ArgumentException e)
        {
            // The same bytes fail alike on every replica, so refusing keeps them identical.
            return TxnError(e.Message);
        }
    }

    // A scanned span piece must lie wholly inside the range: a piece that reaches past it was cut by an older view.
    private bool Covers(TxnSpanRead span) =>
        span.StartKey.Span.SequenceCompareTo(Span.Start) >= 0
        && (Span.End is null || (!span.EndKey.IsEmpty && span.EndKey.Span.SequenceCompareTo(Span.End) <= 0));

    private static RangeCommandResult Done(TxnCommandResult result) => new() { Succeeded = result.Ok, Txn = result };

    private static RangeCommandResult TxnError(string reason) =>
        new() { Succeeded = false, Txn = new TxnCommandResult { Ok = false, Reason = reason } };

    (bool Exists, StorageTimestamp Version) Kv.Txn.Ranges.ITxnRangeData.NewestVersion(ReadOnlySpan<byte> key)
    {
        if (_unwritten.TryGetValue(Convert.ToHexString(key), out var pending)) return (true, pending.Version);
        var read = _mvcc.Get(key, StorageTimestamp.Max);
        return (read.VersionTimestamp > StorageTimestamp.Zero, read.VersionTimestamp);
    }

    bool Kv.Txn.Ranges.ITxnRangeData.ChangedAfter(byte[] start, byte[]? end, StorageTimestamp after)
    {
        var span = new Kv.Storage.Mvcc.KeySpan(start, end);
        foreach (var (hex, pending) in _unwritten)
            if (pending.Version > after && span.Contains(Convert.FromHexString(hex))) return true;
        byte[]? resume = null;
        do
        {
            var page = _mvcc.Scan(span, StorageTimestamp.Max, 1_000, reverse: false, resume);
            if (page.Entries.Any(e => e.Result.VersionTimestamp > after)) return true;
            resume = page.ResumeKey;
        }
        while (resume is not null);
        return false;
    }

    void Kv.Txn.Ranges.ITxnRangeData.WriteCommitted(WriteBatch batch, ReadOnlySpan<byte> key, byte[]? value, StorageTimestamp timestamp)
    {
        if (value is null) Delete(batch, key, timestamp);
        else Put(batch, key, value, timestamp);
    }
}
