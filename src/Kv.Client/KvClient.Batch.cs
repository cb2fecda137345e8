using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Wire = global::Kv.Proto.V1;

namespace Kv.Client;

// Batches: GetMany and PutMany over the Kv.Batch RPC, grouped by range.
public sealed partial class KvClient
{
    /// <summary>
    /// Reads many keys; returns their entries in the order of <paramref name="keys"/>, null for a key that does not
    /// exist (a key given twice is read twice). The keys are grouped by the range that holds them (the client's range
    /// map), and each group is read with one <c>Batch</c> RPC of at most <see cref="KvClientOptions.BatchOperationsMax"/>
    /// gets (larger groups are split), the ranges' batches in flight concurrently.
    /// </summary>
    /// <remarks>
    /// Each read is linearizable on its own, as <see cref="GetAsync(ReadOnlyMemory{byte}, CancellationToken)"/> is;
    /// the reads together are <b>not</b> one snapshot (a concurrent write may be seen by one and not another). For one
    /// consistent snapshot read the keys in a transaction (<see cref="KvTransactionOptions.ReadOnly"/>). Retried like Get.
    /// </remarks>
    /// <param name="keys">The keys, 1 byte to 4 KiB each; may be empty.</param>
    /// <param name="cancellationToken">Cancels the reads and their retries.</param>
    /// <exception cref="KvBatchException">A read failed (after retries): <see cref="KvBatchException.Key"/> and <see cref="KvBatchException.Index"/> say which.</exception>
    public async Task<IReadOnlyList<KvEntry?>> GetManyAsync(IEnumerable<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ops = keys.Select((key, i) => new BatchOp(i, ByteString.CopyFrom(key.Span), value: null)).ToArray();
        await RunBatchAsync("GetMany", ops, writes: false, cancellationToken).ConfigureAwait(false);
        return Array.ConvertAll(ops, op => op.Entry);
    }

    /// <summary>
    /// UTF-8 form of <see cref="GetManyAsync(IEnumerable{ReadOnlyMemory{byte}}, CancellationToken)"/>: the entries of
    /// <paramref name="keys"/> in their order, null for a key that does not exist.
    /// </summary>
    /// <param name="keys">The keys, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the reads and their retries.</param>
    /// <exception cref="KvBatchException">A read failed (after retries).</exception>
    public Task<IReadOnlyList<KvEntry?>> GetManyAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return GetManyAsync(keys.Select(k => (ReadOnlyMemory<byte>)Utf8(k)).ToArray(), cancellationToken);
    }

    /// <summary>
    /// Writes many keys. The puts are grouped by the range that holds their key (the client's range map); each group
    /// is sent as <c>Batch</c> RPCs of at most <see cref="KvClientOptions.BatchOperationsMax"/> puts and
    /// <see cref="KvClientOptions.BatchRequestBytesMax"/> bytes, one range's after another in input order (so the last
    /// of two puts of one key wins), different ranges concurrently. Each put carries its own write id, so a retried
    /// batch applies each put once.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Not atomic.</b> The server applies a batch's puts one by one, each as its own Put would be; a failure stops
    /// that range's batch with the puts before it applied and none after, and does not undo anything. Other ranges'
    /// batches go on (the ones not yet started are not sent). For all-or-nothing writes use a transaction
    /// (<see cref="RunTransactionAsync(Func{KvTransaction, Task}, CancellationToken)"/>).
    /// </para>
    /// <para>
    /// On failure a <see cref="KvBatchException"/> names the put that failed, and its
    /// <see cref="KvBatchException.WriteOutcomes"/> says for every entry whether it was applied, was not, or may have
    /// been (it was in flight when an answer was lost, the per-call timeout passed, or the overall deadline passed).
    /// Retried like Put: UNAVAILABLE and NotLeader with the same write ids, DEADLINE_EXCEEDED never. Cancelling the
    /// token throws <see cref="OperationCanceledException"/>, and puts in flight may still apply.
    /// </para>
    /// </remarks>
    /// <param name="entries">The keys (1 byte to 4 KiB) and values (at most 4 MiB); may be empty.</param>
    /// <param name="cancellationToken">Cancels the writes; writes in flight may still apply.</param>
    /// <exception cref="KvBatchException">A put failed (after retries); see <see cref="KvBatchException.WriteOutcomes"/>.</exception>
    public Task PutManyAsync(IEnumerable<(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value)> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var ops = entries.Select((e, i) => new BatchOp(i, ByteString.CopyFrom(e.Key.Span), ByteString.CopyFrom(e.Value.Span))).ToArray();
        return RunBatchAsync("PutMany", ops, writes: true, cancellationToken);
    }

    /// <summary>
    /// UTF-8 form of <see cref="PutManyAsync(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}}, CancellationToken)"/>:
    /// not atomic, each put applied once; see there.
    /// </summary>
    /// <param name="entries">The keys and values, encoded as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the writes; writes in flight may still apply.</param>
    /// <exception cref="KvBatchException">A put failed (after retries); see <see cref="KvBatchException.WriteOutcomes"/>.</exception>
    public Task PutManyAsync(IEnumerable<(string Key, string Value)> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return PutManyAsync(entries.Select(e => ((ReadOnlyMemory<byte>)Utf8(e.Key), (ReadOnlyMemory<byte>)Utf8(e.Value))).ToArray(), cancellationToken);
    }

    // ---------------------------------------------------------------- machinery

    /// <summary>
    /// Groups <paramref name="ops"/> by cached range (after loading the range map if it cannot place some key),
    /// splits each group into chunks, runs each group's chunks in order and the groups concurrently (at most
    /// <see cref="KvClientOptions.BatchConcurrencyMax"/>), and throws a <see cref="KvBatchException"/> for the first
    /// failed operation (by input position) once every started chunk has finished.
    /// </summary>
    private async Task RunBatchAsync(string operation, BatchOp[] ops, bool writes, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (ops.Length == 0) return;
        await EnsureRangesAsync(ops, cancellationToken).ConfigureAwait(false);

        var groups = ops.GroupBy(op => _router.Ranges.Find(op.Key.Span)?.RangeId).Select(g => Chunks(g, writes).ToList()).ToList();
        var failures = new List<(BatchOp Op, KvException Error)>();
        int stopped = 0;
        using var gate = new SemaphoreSlim(_options.BatchConcurrencyMax);
        await Task.WhenAll(groups.Select(async chunks =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var chunk in chunks)
                {
                    if (Volatile.Read(ref stopped) != 0) return; // another group failed: send nothing more
                    if (await RunChunkAsync(operation, chunk, writes, cancellationToken).ConfigureAwait(false) is { } failure)
                    {
                        lock (failures) failures.Add(failure);
                        Volatile.Write(ref stopped, 1);
                        return;
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        if (failures.Count == 0) return;
        var (op, error) = failures.MinBy(f => f.Op.Index);
        var outcomes = writes
            ? Array.ConvertAll(ops, o => o.Applied ? KvWriteOutcome.Applied : o.Uncertain ? KvWriteOutcome.MayHaveApplied : KvWriteOutcome.NotApplied)
            : [];
        throw new KvBatchException(operation, op.Index, op.Key.Memory, ops.Length, outcomes, error);
    }

    /// <summary>Loads the range map first when it cannot place some key, so that the batches are grouped right.</summary>
    private async Task EnsureRangesAsync(BatchOp[] ops, CancellationToken cancellationToken)
    {
        if (ops.All(op => _router.Ranges.Find(op.Key.Span) is not null)) return;
        RefreshRangesInBackground();
        await Volatile.Read(ref _rangeRefresh).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A group's operations (input order) in chunks of at most BatchOperationsMax operations and, for puts, BatchRequestBytesMax bytes.</summary>
    private IEnumerable<BatchOp[]> Chunks(IEnumerable<BatchOp> group, bool writes)
    {
        var chunk = new List<BatchOp>();
        long bytes = 0;
        foreach (var op in group)
        {
            if (chunk.Count == _options.BatchOperationsMax || (writes && chunk.Count > 0 && bytes + op.Bytes > _options.BatchRequestBytesMax))
            {
                yield return chunk.ToArray();
                chunk.Clear();
                bytes = 0;
            }
            chunk.Add(op);
            bytes += op.Bytes;
        }
        if (chunk.Count > 0) yield return chunk.ToArray();
    }

    /// <summary>
    /// Runs one chunk to its end: its puts take one write lane for the whole chunk, with consecutive sequences, so
    /// that every attempt sends a run of the chunk in sequence order starting at the first operation not known to
    /// be applied. Returns the failed operation and its error, or null when every operation succeeded.
    /// </summary>
    private async Task<(BatchOp Op, KvException Error)?> RunChunkAsync(string operation, BatchOp[] chunk, bool writes, CancellationToken cancellationToken)
    {
        WriteLane? lane = null;
        if (writes)
        {
            lane = await _lanes.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var op in chunk) op.WriteId = lane.NextWriteId();
        }
        try
        {
            var cursor = new BatchCursor(chunk, writes, _options.BatchOperationsMax);
            while (!cursor.Done)
            {
                try
                {
                    await InvokeCoreAsync(operation, idempotent: !writes, () => cursor.Current.Key.Memory,
                        (endpoint, call) => SendRunAsync(cursor, endpoint, call),
                        (e, endpoint) => Classify(e, operation, endpoint, idempotent: !writes, (cursor.Failed ?? cursor.Current).Key.Memory),
                        cancellationToken).ConfigureAwait(false);
                }
                catch (KvException e)
                {
                    return (cursor.Failed ?? cursor.Current, e);
                }
            }
            return null;
        }
        finally
        {
            if (lane is not null) _lanes.Writer.TryWrite(lane);
        }
    }

    /// <summary>
    /// One attempt: sends the run starting at <see cref="BatchCursor.Next"/> (the operations from there that the range
    /// map places in the same range) as one Batch RPC, and records what the answer says. Moves on by itself (without
    /// spending a retry) past puts the range reports as applied before (a stale write id: a later put of this chunk's
    /// lane was applied there, and a batch applies in order, so this one was too), and halves the run when an answer
    /// was too large. A run that stops at operation i &gt; 0 because that key is another range's is progress: it
    /// returns, so the caller routes the rest afresh. Any other failure is thrown, with the cursor past the
    /// operations known to be applied.
    /// </summary>
    private async Task<bool> SendRunAsync(BatchCursor cursor, string endpoint, CallOptions call)
    {
        var stub = _router.Stub(endpoint);
        // A map found stale by the last attempt is being reloaded: build the run from the new one (the load is bounded by the per-call timeout).
        await Volatile.Read(ref _rangeRefresh).WaitAsync(call.CancellationToken).ConfigureAwait(false);
        while (true)
        {
            cursor.Failed = null;
            var run = cursor.Run(_router.Ranges);
            var request = new Wire.BatchRequest();
            foreach (var op in run)
            {
                request.Operations.Add(cursor.Writes
                    ? new Wire.BatchOperation { Put = new Wire.PutRequest { Key = op.Key, Value = op.Value, WriteId = op.WriteId } }
                    : new Wire.BatchOperation { Get = new Wire.GetRequest { Key = op.Key } });
            }
            Wire.BatchResponse response;
            try
            {
                // The server applies the run one operation after another: allow time for each.
                var deadline = DateTime.UtcNow + _options.PerCallTimeout + _options.BatchPerOperationTimeout * run.Count;
                response = await stub.BatchAsync(request, call.WithDeadline(deadline)).ResponseAsync.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                cursor.InFlight(run, 0); // cancelled or out of time mid-call: the run may have applied
                throw;
            }
            catch (RpcException e)
            {
                int? failedAt = FailedOperationIndex(e);
                if (failedAt is int i && i < run.Count)
                {
                    cursor.Failed = run[i];
                    if (e.StatusCode == StatusCode.InvalidArgument) throw; // refused whole: nothing applied
                    bool elsewhere = i > 0 && IsRouting(e);
                    if (elsewhere)
                    {
                        // Progress, not a failure: this node served the operations before it, and the rest belong to
                        // another range. Learn where (the classification records the hint and fixes the map), and
                        // route the rest afresh, without spending a retry.
                        _ = Classify(e, cursor.Writes ? "PutMany" : "GetMany", endpoint, idempotent: !cursor.Writes, run[i].Key.Memory);
                    }
                    if (cursor.Writes)
                    {
                        cursor.Applied(run, i); // the server applied the ones before it (their answers are not returned)
                        if (elsewhere) return true;
                        if (e.StatusCode == StatusCode.FailedPrecondition && e.Status.Detail.Contains("write_id", StringComparison.Ordinal))
                        {
                            cursor.Applied([run[i]], 1); // applied by an earlier attempt whose answer was lost
                            if (cursor.Done) return true;
                            continue;
                        }
                        if (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled or StatusCode.Internal or StatusCode.Unknown)
                            run[i].Uncertain = true; // failed after it may have been proposed
                    }
                    else if (elsewhere)
                    {
                        // The reads before it were served here, but their answers are lost: read them again here.
                        cursor.RunLimitOnce = i;
                        continue;
                    }
                }
                else if (e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled
                         || (EndpointRouter.IsConnectionFailure(e) && !IsConnectFailure(e)))
                {
                    cursor.InFlight(run, 0); // sent, and no answer: any of the run may have applied
                }
                if (e.StatusCode == StatusCode.ResourceExhausted && run.Count > 1 && (!cursor.Writes || failedAt is null))
                {
                    cursor.RunMax = run.Count / 2; // an answer (or a request) over a size limit: smaller runs
                    continue;
                }
                throw;
            }
            if (response.Results.Count != run.Count)
                throw new RpcException(new Status(StatusCode.Internal, $"the server answered {response.Results.Count} results for {run.Count} operations"));
            for (int i = 0; i < run.Count; i++)
            {
                if (!cursor.Writes && response.Results[i].Get is { } get)
                    run[i].Entry = get.Found ? new KvEntry(run[i].Key.Memory, get.Value.Memory, ToVersion(get.Version)) : null;
            }
            cursor.Applied(run, run.Count);
            return true;
        }
    }

    /// <summary>Whether the error says the key belongs elsewhere (NotLeader, RangeMoved): the operation was not applied.</summary>
    private static bool IsRouting(RpcException e) =>
        e.StatusCode == StatusCode.FailedPrecondition
        && e.GetRpcStatus() is { } status && (status.GetDetail<Wire.NotLeader>() is not null || status.GetDetail<Wire.RangeMoved>() is not null);

    /// <summary>The position of the operation a batch failed at, from the server's message prefix <c>operations[i] failed</c> or an invalid field <c>operations[i]…</c>.</summary>
    internal static int? FailedOperationIndex(RpcException e)
    {
        var match = OperationIndexPattern().Match(e.Status.Detail);
        if (!match.Success && e.StatusCode == StatusCode.InvalidArgument && e.GetRpcStatus()?.GetDetail<Wire.InvalidArgument>() is { } invalid)
            match = OperationIndexPattern().Match(invalid.Field);
        return match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : null;
    }

    [GeneratedRegex(@"^operations\[(\d+)\]")]
    private static partial Regex OperationIndexPattern();

    /// <summary>One operation of a GetMany or PutMany and what is known of it.</summary>
    private sealed class BatchOp(int index, ByteString key, ByteString? value)
    {
        /// <summary>Its position in the caller's input.</summary>
        public int Index { get; } = index;

        public ByteString Key { get; } = key;

        /// <summary>The value to put (puts only).</summary>
        public ByteString? Value { get; } = value;

        /// <summary>Key and value bytes, plus framing.</summary>
        public long Bytes => Key.Length + (Value?.Length ?? 0) + 16;

        /// <summary>The write id, fixed for every attempt (puts only).</summary>
        public Wire.WriteId? WriteId { get; set; }

        /// <summary>The entry read (gets only).</summary>
        public KvEntry? Entry { get; set; }

        /// <summary>Answered: read, or (a put) known to be applied.</summary>
        public bool Applied { get; set; }

        /// <summary>A put sent in an attempt whose outcome is unknown and not applied since: it may have applied.</summary>
        public bool Uncertain { get; set; }
    }

    /// <summary>Where a chunk stands: the first operation not yet answered, and how long a run may be. One attempt at a time uses it.</summary>
    private sealed class BatchCursor(BatchOp[] chunk, bool writes, int runMax)
    {
        public bool Writes { get; } = writes;

        /// <summary>The first operation not answered yet; every one before it is.</summary>
        public int Next { get; private set; }

        public bool Done => Next == chunk.Length;

        public BatchOp Current => chunk[Math.Min(Next, chunk.Length - 1)];

        /// <summary>The operation the last attempt failed at, when the server named it.</summary>
        public BatchOp? Failed { get; set; }

        /// <summary>The most operations in the next run (halved when an answer is too large).</summary>
        public int RunMax { get; set; } = runMax;

        /// <summary>A tighter limit for the next run only (0: none).</summary>
        public int RunLimitOnce { get; set; }

        /// <summary>The operations from <see cref="Next"/> that the range map places in the same range as the first (or, unplaced, that it cannot place either).</summary>
        public List<BatchOp> Run(RangeCache ranges)
        {
            var first = ranges.Find(chunk[Next].Key.Span);
            int max = RunLimitOnce > 0 ? Math.Min(RunLimitOnce, RunMax) : RunMax;
            RunLimitOnce = 0;
            var run = new List<BatchOp>();
            for (int i = Next; i < chunk.Length && run.Count < max; i++)
            {
                if (run.Count > 0 && !ReferenceEquals(ranges.Find(chunk[i].Key.Span), first)) break;
                run.Add(chunk[i]);
            }
            return run;
        }

        /// <summary>Records the first <paramref name="count"/> operations of <paramref name="run"/> (which starts at <see cref="Next"/>) as answered.</summary>
        public void Applied(IReadOnlyList<BatchOp> run, int count)
        {
            for (int i = 0; i < count; i++)
            {
                run[i].Applied = true;
                run[i].Uncertain = false;
            }
            Next += count;
        }

        /// <summary>Records operations of <paramref name="run"/> from <paramref name="from"/> as possibly applied (puts only).</summary>
        public void InFlight(IReadOnlyList<BatchOp> run, int from)
        {
            if (!Writes) return;
            for (int i = from; i < run.Count; i++) run[i].Uncertain = true;
        }
    }
}
