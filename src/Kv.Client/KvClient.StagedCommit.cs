using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Client;

public sealed partial class KvClient
{
    private readonly ConcurrentDictionary<Task, bool> _finishing = new();
    // Cleared when a part was refused as malformed and the same commit then went through Commit: this cluster's
    // default protocol is two-phase commit, which only a coordinator can run.
    private volatile bool _stageDefaultProtocol = true;

    /// <summary>
    /// Commits <paramref name="request"/> by staging each range's part at that range's leader (docs/transactions.md §3,
    /// "Staged by the client"), at <paramref name="commitTimestamp"/>. Null when this transaction is not one to stage
    /// here (one range only, a scan or locking read, two-phase commit, a range not in the map): the caller commits it
    /// with Commit. Throws like <see cref="TxnCommitAsync"/>.
    /// </summary>
    internal async Task<Wire.CommitTransactionResponse?> TxnStagedCommitAsync(Wire.CommitTransactionRequest request, Wire.Timestamp commitTimestamp,
        CancellationToken cancellationToken)
    {
        var parts = StagedParts(request, commitTimestamp);
        if (parts is null) return null;
        var finish = new Wire.TxnFinishRequest
        {
            TxnId = request.TxnId, HomeKey = parts.HomeKey, CommitTimestamp = commitTimestamp, Priority = request.Priority,
        };
        finish.Keys.AddRange(parts.Keys);

        var answers = await Task.WhenAll(parts.Requests.Select(p => StagePartAsync(p, cancellationToken))).ConfigureAwait(false);
        if (answers.All(a => a.Response is { Staged: true }))
        {
            // Committed now. Publishing needs no answer: if this never arrives, whoever meets a lock finishes it.
            finish.Outcome = Wire.TxnFinishRequest.Types.Outcome.FinishStaged;
            FinishInBackground(finish);
            return new Wire.CommitTransactionResponse { CommitTimestamp = commitTimestamp };
        }
        cancellationToken.ThrowIfCancellationRequested();
        var refused = answers.Select(a => a.Response).FirstOrDefault(r => r is { Staged: false });
        bool malformed = answers.Any(a => a.Failure is KvInvalidArgumentException);
        finish.Outcome = refused is not null || malformed ? Wire.TxnFinishRequest.Types.Outcome.FinishRefused : Wire.TxnFinishRequest.Types.Outcome.FinishUnknown;
        if (refused is not null) finish.Conflict = refused.Conflict ?? new Wire.TxnConflict();
        try
        {
            return await TxnFinishAsync(finish, cancellationToken).ConfigureAwait(false);
        }
        catch (KvTransactionConflictException) when (refused is null && malformed)
        {
            // Aborted, as it must be: the malformed part was never staged. Commit it through one node, below.
        }
        catch (KvException e) when (e is not (KvTransactionConflictException or KvTransactionOutcomeUnknownException or KvInvalidArgumentException))
        {
            // A refused part can never be staged any more (nor can a malformed one), so the transaction cannot commit;
            // whoever meets its locks ends it.
            if (refused is not null || malformed)
            {
                var conflict = refused?.Conflict ?? new Wire.TxnConflict { Reason = "a range refused the transaction's part as malformed" };
                throw new KvTransactionConflictException(conflict.Reason is { Length: > 0 } r ? r : "a range refused the transaction",
                    conflict.Key.Memory, conflict.ConflictingTxnId.Memory, 1, e);
            }
            throw new KvTransactionOutcomeUnknownException(
                $"The transaction's outcome is unknown: a range's answer to its stage was lost, and settling it failed ({e.Message}). It may have committed (all or nothing); read its keys to find out before running it again.", e);
        }
        // A part was refused before anything was proposed for it, so the transaction was aborted above: send the
        // commit to one node under a new id, which reports a real problem with the request as Commit would.
        request.TxnId = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(request.TxnId.Length));
        var response = await TxnCommitAsync(request, cancellationToken).ConfigureAwait(false);
        if (request.Protocol == Wire.CommitProtocol.Default) _stageDefaultProtocol = false;
        return response;
    }

    /// <summary>The parts to stage, one per range of the map, or null when this transaction commits through Commit.</summary>
    private StagedCommitParts? StagedParts(Wire.CommitTransactionRequest request, Wire.Timestamp commitTimestamp)
    {
        if (!_options.StageCommitsAtLeaders || request.Writes.Count == 0 || request.SpanReads.Count > 0 || !request.HomeKey.IsEmpty) return null;
        if (request.Protocol == Wire.CommitProtocol.TwoPhase || (request.Protocol == Wire.CommitProtocol.Default && !_stageDefaultProtocol)) return null;
        var byRange = new Dictionary<ulong, Wire.TxnStageRequest>();
        var order = new List<Wire.TxnStageRequest>();
        var keys = new List<ByteString>();
        var seen = new HashSet<ByteString>();
        Wire.TxnStageRequest? PartOf(ByteString key)
        {
            if (_router.Ranges.Find(key.Span) is not { } range)
            {
                RefreshRangesInBackground(); // this commit goes through Commit; the next ones find the map
                return null;
            }
            if (!byRange.TryGetValue(range.RangeId, out var part))
            {
                part = new Wire.TxnStageRequest
                {
                    Part = new Wire.CommitTransactionRequest
                    {
                        TxnId = request.TxnId, ReadTimestamp = request.ReadTimestamp, Protocol = request.Protocol, Isolation = request.Isolation,
                        Priority = request.Priority,
                    },
                    HomeKey = request.Writes[0].Key,
                    CommitTimestamp = commitTimestamp,
                };
                byRange[range.RangeId] = part;
                order.Add(part);
            }
            if (seen.Add(key)) keys.Add(key);
            return part;
        }
        foreach (var write in request.Writes)
        {
            if (PartOf(write.Key) is not { } part) return null;
            part.Part.Writes.Add(write);
        }
        // Under snapshot isolation nothing read takes part in the commit (the ranges would drop it).
        if (request.Isolation != Wire.Isolation.Snapshot)
            foreach (var read in request.Reads)
            {
                if (PartOf(read.Key) is not { } part) return null;
                part.Part.Reads.Add(read);
            }
        // One range: the coordinator there commits it in the same single round, and publishes without a Finish.
        if (order.Count < 2) return null;
        var home = request.Writes[0].Key;
        order.First(p => p.Part.Writes.Any(w => w.Key.Equals(home))).ManifestKeys.AddRange(keys);
        return new StagedCommitParts(home, keys, order);
    }

    /// <summary>
    /// One part, at the leader of its range (followed through NotLeader); idempotent, so retried like a read. Its
    /// failure is returned, not thrown: what the other parts answered decides what happens next.
    /// </summary>
    private async Task<(Wire.TxnStageResponse? Response, Exception? Failure)> StagePartAsync(Wire.TxnStageRequest part, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> routingKey = part.Part.Writes.Count > 0 ? part.Part.Writes[0].Key.Memory : part.Part.Reads[0].Key.Memory;
        try
        {
            return (await InvokeCoreAsync("TxnStage", idempotent: true, routingKey,
                (endpoint, call) => _router.TxnStub(endpoint).StageAsync(part, call).ResponseAsync,
                (e, endpoint) => Classify(e, "TxnStage", endpoint, idempotent: true, routingKey), cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is KvException or OperationCanceledException or RpcException)
        {
            return (null, e);
        }
    }

    /// <summary>Ends a staged commit at the leader of the home range: answers like Commit.</summary>
    private Task<Wire.CommitTransactionResponse> TxnFinishAsync(Wire.TxnFinishRequest finish, CancellationToken cancellationToken) =>
        InvokeCoreAsync("TxnFinish", idempotent: true, finish.HomeKey.Memory,
            (endpoint, call) => _router.TxnStub(endpoint).FinishAsync(finish, call).ResponseAsync,
            (e, endpoint) => e.StatusCode is StatusCode.Aborted or StatusCode.Unknown ? ClassifyCommit(e, endpoint)
                : Classify(e, "TxnFinish", endpoint, idempotent: true, finish.HomeKey.Memory), cancellationToken);

    /// <summary>Publishes a committed transaction without making its caller wait; disposal waits for it, briefly.</summary>
    private void FinishInBackground(Wire.TxnFinishRequest finish)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await TxnFinishAsync(finish, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Committed either way: a reader that meets its locks finishes it (docs/transactions.md §5).
                _logger.LogDebug(e, "Publishing a committed transaction failed; the cluster finishes it on its own");
            }
        });
        _finishing[task] = true;
        task.ContinueWith(t => _finishing.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits up to <paramref name="limit"/> for the background publishes started so far.</summary>
    private async Task DrainFinishesAsync(TimeSpan limit)
    {
        var pending = _finishing.Keys.ToArray();
        if (pending.Length == 0) return;
        try
        {
            await Task.WhenAll(pending).WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Left to the cluster.
        }
    }

    private sealed record StagedCommitParts(ByteString HomeKey, List<ByteString> Keys, List<Wire.TxnStageRequest> Requests);
}
