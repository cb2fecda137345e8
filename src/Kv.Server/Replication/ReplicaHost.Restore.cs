using Kv.Paxos;
using Kv.Proto.V1;
using Snapshot = Kv.Paxos.Snapshot;
using Kv.Server.Peers;
using Kv.Server.Ranges;
using Kv.Storage;
using Kv.Storage.Mvcc;
using Kv.Storage.Ranges;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Replication;

/// <summary>
/// Log compaction, snapshot installation and the rebuild of corrupt replicas.
/// <para>
/// A range's Paxos snapshot carries only the state machine's own state (<see cref="RangeSnapshotState"/>: descriptor,
/// last timestamp, client sessions); its MVCC data is copied from a peer whose replica has applied at least up to
/// the snapshot's index. That copy may be newer than the snapshot, which is harmless: applying the log from the
/// snapshot's index on top rewrites the same versions (same keys, timestamps and values), and every condition a
/// command checks reads at the command's own timestamp, which newer versions do not affect.
/// </para>
/// </summary>
public sealed partial class ReplicaHost : IRangeDataSource
{
    private readonly IRangeDataFetcher? _fetcher;
    private readonly long _compactAfterEntries;
    private readonly long _compactAfterBytes;
    // Fetches in flight, which dispose cancels and waits for: a fetch writes the range's data into the store, and
    // one that outlived the node wrote into a closed database (a native crash, not an exception).
    private readonly HashSet<Task> _fetches = [];

    /// <inheritdoc />
    public RangeDataAvailability Check(ulong rangeId, RangeSpan span, out string reason)
    {
        if (!_ranges.TryGetValue(rangeId, out var r))
        {
            reason = $"node {_nodeId} does not host range {rangeId}";
            return RangeDataAvailability.RangeNotHosted;
        }
        if (r.Restore is not null || r.Core.LatestConfiguration is null || r.StateMachine.IsMeta)
        {
            reason = r.StateMachine.IsMeta ? "the meta range has no data to copy" : $"node {_nodeId} has no data of range {rangeId} yet";
            return RangeDataAvailability.SpanUnavailable;
        }
        reason = "";
        return RangeDataAvailability.Available;
    }

    /// <summary>
    /// Creates, as empty replicas waiting for a snapshot, the ranges that <paramref name="descriptors"/> place on
    /// this node but that it does not host: ranges split off while it was away and whose split it skipped by
    /// installing a later snapshot of the left range. Only ranges whose span overlaps no hosted range are created,
    /// so a replica still behind the split (which creates the range itself when it applies it) is left to do so.
    /// Safe because this node never held state of those groups: it has never promised or accepted anything there.
    /// </summary>
    public void AdoptMissingReplicas(IReadOnlyList<RangeDescriptor> descriptors) =>
        _events.Writer.TryWrite(new AdoptEvent(descriptors));

    private void Adopt(IReadOnlyList<RangeDescriptor> descriptors)
    {
        foreach (var d in descriptors)
        {
            if (_ranges.ContainsKey(d.RangeId) || d.RangeId == RangeIds.Meta || d.Replicas.All(r => r.NodeId != _nodeId)) continue;
            var span = Descriptors.SpanOf(d);
            bool overlaps = _ranges.Values.Any(r => !r.StateMachine.IsMeta && (r.Core.LatestConfiguration is null || Overlap(span, r.StateMachine.Span)));
            if (overlaps) continue;
            var machine = new RangeStateMachine(d.RangeId, span, _mvcc, _meta);
            var core = new Kv.Paxos.Replica(_options(ReplicaId), PersistentState.Joining(), new Random(_random.Next()));
            Host(new HostedRange(d.RangeId, core, machine));
            _logger.LogWarning("Node {Node} adopts {Range}, which it should hold but does not; it waits for a snapshot", _nodeId, Descriptors.Describe(d));
        }
    }

    private static bool Overlap(KeySpan a, KeySpan b) =>
        (a.End is null || b.Start.AsSpan().SequenceCompareTo(a.End) < 0) && (b.End is null || a.Start.AsSpan().SequenceCompareTo(b.End) < 0);

    /// <summary>Asks the loop to rebuild a replica whose data was found corrupt (from a peer, keeping its Paxos state).</summary>
    public void RequestRebuild(ulong rangeId, string reason) => _events.Writer.TryWrite(new RebuildEvent(rangeId, reason));

    /// <summary>Whether a replica is being restored now (for status and tests).</summary>
    public bool IsRestoring(ulong rangeId) => _ranges.TryGetValue(rangeId, out var r) && r.Restore is not null;

    private void MaybeCompact(HostedRange range)
    {
        if (range.Restore is not null) return;
        long applied = range.StateMachine.AppliedUpTo;
        long sinceSnapshot = applied - range.Core.SnapshotIndex;
        if (sinceSnapshot <= 0 || applied > range.Core.AppliedUpTo) return;
        // By bytes too, but never more often than every hundredth of the entry threshold: the bytes include
        // entries not yet applied, which a compaction cannot drop, and each compaction captures and persists a
        // snapshot.
        bool byBytes = range.Core.LogBytes >= _compactAfterBytes && sinceSnapshot >= Math.Max(1, _compactAfterEntries / 100);
        if (sinceSnapshot < _compactAfterEntries && !byBytes) return;
        range.Core.Compact(applied, range.StateMachine.CaptureSnapshot());
        // Persisted with the replica's next Ready (the next tick at the latest).
    }

    /// <summary>Restores replicas whose stored snapshot is ahead of their state machine (a restore a crash cut short).</summary>
    private void ResumeRestores()
    {
        foreach (var r in _ranges.Values)
        {
            var stored = _paxosState.Load(checked((long)r.RangeId));
            // Ahead of the state machine, or (a replica created empty) installed but never restored.
            if (stored is not null && (stored.Snapshot.Index > r.StateMachine.AppliedUpTo || (!r.StateMachine.HasState && stored.Snapshot.Configurations.Count > 0)))
                BeginRestore(r, stored.Snapshot, replayUntil: stored.Snapshot.Index, spanOverride: null, "a snapshot install was interrupted");
        }
    }

    private void BeginInstall(HostedRange range, Snapshot snapshot)
    {
        if (range.Restore is { } current)
        {
            // A newer snapshot supersedes the one being fetched; what was deferred precedes it.
            current.Cancel.Cancel();
            FailDeferred(range, current);
            range.Restore = null;
        }
        BeginRestore(range, snapshot, replayUntil: snapshot.Index, spanOverride: null, $"a snapshot at slot {snapshot.Index} arrived");
    }

    private void BeginRebuild(HostedRange range, string reason)
    {
        if (range.Restore is not null) return;
        var stored = _paxosState.Load(checked((long)range.RangeId));
        if (stored is null) return;
        // Keep the Paxos state (promises and accepted values are intact); rebuild only the state machine, from the
        // latest snapshot's state, the range's current span of data from a peer, and this node's log.
        // Up to what the core handed out: after an abandoned apply round that is beyond what the state machine holds.
        BeginRestore(range, stored.Snapshot, replayUntil: range.Core.AppliedUpTo, spanOverride: range.StateMachine.Span, reason);
    }

    private void BeginRestore(HostedRange range, Snapshot snapshot, long replayUntil, KeySpan? spanOverride, string reason)
    {
        if (range.StateMachine.IsMeta)
        {
            // The meta range keeps no MVCC data: its whole state is in the snapshot. Never fetch a span for it
            // (its descriptor covers every key, and a copy would overwrite the user ranges' data).
            var metaState = RangeSnapshotState.Parser.ParseFrom(snapshot.Data.Span);
            var metaRestore = new RangeRestore(snapshot, metaState, KeySpan.All, replayUntil, reason);
            range.Restore = metaRestore;
            _ = _events.Writer.WriteAsync(new RestoreFetchedEvent(range.RangeId, metaRestore)).AsTask();
            return;
        }
        if (_fetcher is null)
        {
            _logger.LogError("Range {Range} needs its data restored ({Reason}), but this host has no data fetcher", range.RangeId, reason);
            return;
        }
        var state = snapshot.Data.IsEmpty ? new RangeSnapshotState { Range = range.StateMachine.Descriptor } : RangeSnapshotState.Parser.ParseFrom(snapshot.Data.Span);
        var span = spanOverride ?? Descriptors.SpanOf(state.Range);
        var restore = new RangeRestore(snapshot, state, span, replayUntil, reason);
        range.Restore = restore;
        var candidates = new List<ulong>();
        if (range.SnapshotSource is { } source && source != _nodeId) candidates.Add(source);
        foreach (var replica in state.Range.Replicas.Concat(range.StateMachine.Descriptor.Replicas))
            if (replica.NodeId != _nodeId && !candidates.Contains(replica.NodeId)) candidates.Add(replica.NodeId);
        _logger.LogWarning("Range {Range}: restoring from slot {Index} ({Reason}); fetching {Span} from node(s) {Candidates}",
            range.RangeId, snapshot.Index, reason, span, string.Join(",", candidates));
        var stopping = _stop.Token;
        var fetch = Task.Run(() => FetchAsync(range.RangeId, restore, candidates, stopping));
        lock (_fetches) _fetches.Add(fetch);
        _ = fetch.ContinueWith(done => { lock (_fetches) _fetches.Remove(done); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task FetchAsync(ulong rangeId, RangeRestore restore, IReadOnlyList<ulong> candidates, CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(restore.Cancel.Token, stopping);
        var ct = linked.Token;
        try
        {
            await RangeDataFetchRetry.Create(_logger, rangeId).ExecuteAsync(async token =>
            {
                await _fetcher!.FetchAsync(candidates, rangeId, restore.Span, restore.Snapshot.Index, token).ConfigureAwait(false);
                await _events.Writer.WriteAsync(new RestoreFetchedEvent(rangeId, restore), token).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Superseded by a newer snapshot, or the node is stopping.
        }
    }

    /// <summary>
    /// Waits until no fetch can touch the store any more; call after cancelling <c>_stop</c>, which every fetch's
    /// token is linked to.
    /// </summary>
    private async Task StopFetchesAsync()
    {
        Task[] fetches;
        lock (_fetches) fetches = [.. _fetches];
        try
        {
            await Task.WhenAll(fetches).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "A range data fetch ended with an error while the node stopped");
        }
    }

    private void FinishRestore(HostedRange range)
    {
        var restore = range.Restore!;
        long index = restore.Snapshot.Index;
        var work = new List<(HostedRange, IReadOnlyList<ChosenEntry>)>();
        if (restore.ReplayUntil > index)
        {
            var stored = _paxosState.Load(checked((long)range.RangeId))
                ?? throw new StorageCorruptionException($"Range {range.RangeId}: its Paxos state vanished during a rebuild.");
            var replay = stored.Entries.Where(e => e.Slot >= index && e.Slot < restore.ReplayUntil)
                .Select(e => new ChosenEntry(e.Slot, e.Value)).ToList();
            if (replay.Count != restore.ReplayUntil - index)
                throw new StorageCorruptionException($"Range {range.RangeId}: slots {index}..{restore.ReplayUntil} are not all in the log.");
            work.Add((range, replay));
        }
        foreach (var deferred in restore.Deferred)
            if (deferred.Chosen.Count > 0) work.Add((range, deferred.Chosen));
        range.Restore = null;
        _restoring = range;
        try
        {
            ApplyAndComplete(work, first: batch => range.StateMachine.Restore(batch, index, restore.State));
        }
        finally
        {
            _restoring = null;
        }
        if (range.Restore is not null)
        {
            // The replay met corrupt data and a new rebuild has begun; it replays everything handed out, so the
            // reads that waited on this restore are failed back (the client retries) rather than carried over.
            FailDeferred(range, restore);
            return;
        }
        PublishChanges(range);
        foreach (var deferred in restore.Deferred) CompleteReads(range, deferred);
        _logger.LogWarning("Range {Range}: restored from slot {Index} ({Reason}); applied up to {Applied}",
            range.RangeId, index, restore.Reason, range.StateMachine.AppliedUpTo);
    }

    private void FailDeferred(HostedRange range, RangeRestore restore)
    {
        foreach (var ready in restore.Deferred)
        {
            foreach (var read in ready.ReadsReady)
                if (range.PendingReads.Remove(read.ReadId, out var pending))
                    pending.Completion.TrySetException(new NotLeaderException(range.RangeId, range.Core.LeaderHint));
        }
        restore.Deferred.Clear();
    }
}
