using Google.Protobuf;
using Kv.Proto.V1;
using Microsoft.Extensions.Logging;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Coordination;

/// <summary>
/// Publishes (commit) or removes (abort) a decided transaction's staged versions and drops its locks, range by
/// range, retrying each range until it is done or the caller stops: a decided transaction may be resolved by
/// anyone, any number of times.
/// </summary>
internal sealed class TxnPublisher(RangeFanOut fanOut, ILogger logger)
{
    public async Task ResolveAsync(ByteString txnId, bool commit, StorageTimestamp commitTs, IReadOnlyList<ByteString> keys,
        CancellationToken cancellationToken, Func<int, ValueTask>? between = null, ByteString? forgetHomeKey = null)
    {
        if (keys.Count == 0) return;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var results = await fanOut.ProposeAsync(keys, k => k, part =>
                {
                    var resolve = new TxnResolve { TxnId = txnId, Commit = commit, CommitTimestamp = TxnWire.ToWire(commitTs) };
                    if (commit && forgetHomeKey is not null) resolve.ForgetHomeKey = forgetHomeKey;
                    resolve.Keys.AddRange(part);
                    return new RangeCommand { TxnResolve = resolve };
                }, cancellationToken, between).ConfigureAwait(false);
                var failed = results.FirstOrDefault(r => !r.Result.Succeeded);
                if (failed.Result is null) return;
                throw new InvalidOperationException($"a range refused to resolve the transaction: {failed.Result.Txn?.Reason ?? failed.Result.Error}");
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not InvalidOperationException)
            {
                logger.LogDebug(e, "Resolving transaction {Txn} failed (attempt {Attempt}); trying again", TxnWire.Hex(txnId), attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * attempt, 1000)), cancellationToken).ConfigureAwait(false);
                between = null;
            }
        }
    }

    /// <summary>Proposes a record operation at the home key until a range answers (any answer).</summary>
    public async Task<TxnCommandResult> RecordAsync(TxnRecordOp op, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var result = await fanOut.ProposeAtAsync(op.HomeKey, new RangeCommand { TxnRecord = op }, cancellationToken).ConfigureAwait(false);
                return result.Txn ?? throw new InvalidOperationException($"the home range refused the record operation: {result.Error}");
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not InvalidOperationException)
            {
                logger.LogDebug(e, "Record operation {Kind} of {Txn} failed (attempt {Attempt}); trying again", op.Kind, TxnWire.Hex(op.TxnId), attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * attempt, 1000)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
