using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Kv.Paxos;
using Kv.Server.Peers;
using Kv.Server.Ranges;
using Kv.Server.Telemetry;
using Kv.Storage;
using Kv.Storage.GroupCommit;
using Kv.Storage.Meta;
using Kv.Storage.Mvcc;
using Kv.Storage.Paxos;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using PaxosConfiguration = Kv.Paxos.Configuration;
using RangeCommandResult = Kv.Proto.V1.RangeCommandResult;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Server.Replication;

/// <summary>
/// Runs the node's range replicas. One loop owns every replica: it takes ticks, peer messages, proposals and
/// reads from a bounded queue, steps the replicas, then handles their Readies together — the durable parts of
/// all of them in ONE group-committed synced write, and only after it returns the messages, the applied
/// commands (one unsynced write: the log replays whatever a crash loses) and the answers to clients.
/// While that write runs, new events queue up, so the next round batches more: group commit across ranges.
/// </summary>
public sealed partial class ReplicaHost : IPeerMessageSink, IAsyncDisposable
{
    private readonly ulong _nodeId;
    private readonly NodeStore _store;
    private readonly MvccStore _mvcc;
    private readonly MetaStore _meta;
    private readonly PaxosStateStore _paxosState;
    private readonly GroupCommitter _committer;
    private readonly IPeerSender _sender;
    private readonly Func<int, ReplicaOptions> _options;
    private readonly ILogger _logger;
    private readonly Channel<HostEvent> _events;
    private readonly RangeDirectory? _directory;
    private readonly NodeAddressBook? _addresses;
    private readonly ReplicaMetrics? _metrics;
    // Written only by the loop (and by AddRange before Start); read by status calls from any thread.
    private readonly ConcurrentDictionary<ulong, HostedRange> _ranges = new();
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private Task _ticker = Task.CompletedTask;

    /// <summary>Creates the host; add ranges, then <see cref="Start"/>.</summary>
    public ReplicaHost(ulong nodeId, NodeStore store, MvccStore mvcc, GroupCommitter committer, IPeerSender sender,
        Func<int, ReplicaOptions> options, ILogger logger, int eventsMax = 100_000, RangeDirectory? directory = null,
        IRangeDataFetcher? fetcher = null, long compactAfterEntries = 10_000, NodeAddressBook? addresses = null, ReplicaMetrics? metrics = null,
        long compactAfterBytes = 4L * 1024 * 1024)
    {
        _metrics = metrics;
        _addresses = addresses;
        _directory = directory;
        _fetcher = fetcher;
        _compactAfterEntries = compactAfterEntries;
        _compactAfterBytes = compactAfterBytes;
        _nodeId = nodeId;
        _store = store;
        _mvcc = mvcc;
        _meta = new MetaStore(store);
        _paxosState = new PaxosStateStore(store, committer);
        _committer = committer;
        _sender = sender;
        _options = options;
        _logger = logger;
        _random = new Random(unchecked((int)nodeId * 7919 + Environment.TickCount));
        _events = Channel.CreateBounded<HostEvent>(new BoundedChannelOptions(eventsMax) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The replica id this node has in every group.</summary>
    private int ReplicaId => checked((int)_nodeId);

    /// <summary>
    /// Adds a user range replica: restarts it from what is stored, or bootstraps it over <paramref name="span"/>
    /// with <paramref name="initial"/> (persisting its genesis first). Call before <see cref="Start"/>.
    /// </summary>
    public void AddRange(ulong rangeId, KeySpan span, PaxosConfiguration initial)
    {
        var state = _paxosState.Load(checked((long)rangeId));
        if (state is null || state.Snapshot.Configurations.Count == 0)
        {
            var replicas = initial.Members.Order().Select(m => (m, initial.IsLearner(m)));
            ClusterGenesis.WriteRange(_store, Descriptors.Create(rangeId, span, 1, replicas), initial);
        }
        AddRange(rangeId);
    }

    /// <summary>Restarts a range replica from what is stored. Call before <see cref="Start"/>.</summary>
    public void AddRange(ulong rangeId)
    {
        var state = _paxosState.Load(checked((long)rangeId))
            ?? throw new InvalidOperationException($"Node {_nodeId} has no stored state for range {rangeId}.");
        var machine = new RangeStateMachine(rangeId, KeySpan.All, _mvcc, _meta);
        var core = new Replica(_options(ReplicaId), state, new Random(_random.Next()), appliedUpTo: machine.AppliedUpTo);
        Host(new HostedRange(rangeId, core, machine));
        if (machine.HasState) _directory?.Update(machine.IsMeta ? machine.Directory : [machine.Descriptor]);
        if (machine.IsMeta) _addresses?.Update(machine.Nodes);
    }

    /// <summary>
    /// Adds an empty replica that waits for a snapshot from its group's leader: a node joining the cluster does
    /// this for the meta range before asking to be added. Nothing is persisted until the snapshot arrives.
    /// </summary>
    public void AddEmptyReplica(ulong rangeId)
    {
        var machine = new RangeStateMachine(rangeId, KeySpan.All, _mvcc, _meta);
        var core = new Replica(_options(ReplicaId), PersistentState.Joining(), new Random(_random.Next()));
        Host(new HostedRange(rangeId, core, machine));
    }

    /// <summary>The latest Paxos configuration of a hosted range (null when not hosted, or still empty).</summary>
    public PaxosConfiguration? ConfigurationOf(ulong rangeId) =>
        _ranges.TryGetValue(rangeId, out var r) ? r.Core.LatestConfiguration : null;

    /// <summary>
    /// Proposes a membership change of a range this node leads. Completes once proposed (the change is in force
    /// α slots after it is chosen); a change the latest configuration already reflects completes at once.
    /// Throws <see cref="NotLeaderException"/> when this replica does not lead, and
    /// <see cref="InvalidOperationException"/> when another change is still in progress.
    /// </summary>
    public async Task ProposeMembershipAsync(ulong rangeId, MembershipChange change, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<RangeCommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _events.Writer.WriteAsync(new MembershipEvent(rangeId, change, completion), cancellationToken).ConfigureAwait(false);
        await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the loop and the ticker.</summary>
    public void Start(TimeSpan tickInterval)
    {
        _tickInterval = tickInterval;
        ResumeRestores();
        _loop = Task.Run(() => RunAsync(_stop.Token));
        _ticker = Task.Run(() => TickAsync(tickInterval, _stop.Token));
    }

    /// <summary>What a range replica looks like now (read without the loop: for status pages and tests).</summary>
    public (bool IsLeader, int? LeaderHint, long ChosenPrefix, long AppliedUpTo) Status(ulong rangeId)
    {
        var r = _ranges[rangeId];
        return (r.Core.IsLeader, r.Core.LeaderHint, r.Core.ChosenPrefix, r.StateMachine.AppliedUpTo);
    }

    /// <summary>Every replica this node hosts, in range id order (read without the loop; may be a moment stale).</summary>
    public IReadOnlyList<ReplicaStatus> Replicas() =>
        _ranges.Values.OrderBy(r => r.RangeId).Select(r => new ReplicaStatus(r.RangeId, r.StateMachine.Descriptor,
            r.Core.IsLeader, r.Core.LeaderHint, r.Core.ChosenPrefix, r.StateMachine.AppliedUpTo, r.Core.LogEntryCount, r.Core.IsQuiescent,
            r.StateMachine.Transactions.LockCount, r.Core.LogBytes)).ToArray();

    /// <summary>Whether this node hosts a replica of the range.</summary>
    public bool Hosts(ulong rangeId) => _ranges.ContainsKey(rangeId);

    /// <summary>
    /// Proposes a command of the range and completes with its result once it is chosen and applied here.
    /// Throws <see cref="NotLeaderException"/> when this replica does not lead the range.
    /// </summary>
    public async Task<RangeCommandResult> ProposeAsync(ulong rangeId, Command command, CancellationToken cancellationToken)
    {
        using var span = KvTracing.StartProposal(rangeId, _nodeId);
        try
        {
            long started = Stopwatch.GetTimestamp();
            var completion = new TaskCompletionSource<RangeCommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            // Only a sampled span goes to the loop: its context travels to the followers with the Accepts.
            var traced = span is { Recorded: true } ? span : null;
            await _events.Writer.WriteAsync(new ProposeEvent(rangeId, command, completion, traced), cancellationToken).ConfigureAwait(false);
            var result = await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            _metrics?.Committed(Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (Exception e)
        {
            KvTracing.Fail(span, e);
            throw;
        }
    }

    /// <summary>Reads a key linearizably: under the leader's lease, or after a read-index round.</summary>
    /// Throws <see cref="RangeMovedException"/> when the range no longer holds the key.
    public async Task<MvccReadResult> ReadAsync(ulong rangeId, byte[] key, CancellationToken cancellationToken) =>
        (MvccReadResult)await LinearizableAsync(rangeId, m => m.Span.Contains(key)
            ? m.Read(key, StorageTimestamp.Max)
            : throw new RangeMovedException(rangeId, "the key"), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Scans a page of the range linearizably (latest committed versions). Throws <see cref="RangeMovedException"/>
    /// when <paramref name="span"/> is not inside the range (a split narrowed it).
    /// </summary>
    public async Task<MvccScanPage> ScanAsync(ulong rangeId, KeySpan span, int limit, bool reverse, byte[]? resumeKey, CancellationToken cancellationToken,
        StorageTimestamp? timestamp = null) =>
        (MvccScanPage)await LinearizableAsync(rangeId, m => Within(span, m.Span)
            ? m.Scan(span, limit, reverse, resumeKey, timestamp)
            : throw new RangeMovedException(rangeId, $"all of {span}"), cancellationToken).ConfigureAwait(false);

    private static bool Within(KeySpan inner, KeySpan outer) =>
        inner.Start.AsSpan().SequenceCompareTo(outer.Start) >= 0
        && (outer.End is null || (inner.End is not null && inner.End.AsSpan().SequenceCompareTo(outer.End) <= 0));

    /// <summary>Runs <paramref name="read"/> on the loop against the replica's applied state, without confirming leadership (<see cref="LocalReadEvent"/>).</summary>
    private async Task<object> LocalAsync(ulong rangeId, Func<RangeStateMachine, object> read, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _events.Writer.WriteAsync(new LocalReadEvent(rangeId, read, completion), cancellationToken).ConfigureAwait(false);
        return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<object> LinearizableAsync(ulong rangeId, Func<RangeStateMachine, object> read, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _events.Writer.WriteAsync(new ReadEvent(rangeId, read, completion), cancellationToken).ConfigureAwait(false);
        return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Before a clean stop: asks every range this node leads to hand leadership to another voter (which campaigns
    /// at once), and waits until none is led here or <paramref name="within"/> passes. Clients then find the new
    /// leader in a few milliseconds instead of an election timeout after the node is gone.
    /// </summary>
    public async Task HandOffLeadershipAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        // Read outside the loop, like Status: a stale answer only costs one more round of the wait.
        while (_ranges.Values.Any(r => r.Core.IsLeader && r.Core.LatestConfiguration?.Voters.Count > 1) && DateTime.UtcNow < deadline)
        {
            _events.Writer.TryWrite(new HandOffEvent());
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Deliver(ulong fromNode, ulong groupId, PaxosMessage message) => Enqueue(fromNode, groupId, message, null);

    /// <inheritdoc />
    public void DeliverTraced(ulong fromNode, ulong groupId, PaxosMessage message, IReadOnlyList<TracedSlot> traces) =>
        Enqueue(fromNode, groupId, message, traces);

    private void Enqueue(ulong fromNode, ulong groupId, PaxosMessage message, IReadOnlyList<TracedSlot>? traces)
    {
        _lastHeardMs[fromNode] = Environment.TickCount64;
        if (groupId == LivenessGroup) return;
        // Never block the transport: a full queue drops the message, which Paxos tolerates.
        _events.Writer.TryWrite(new PeerMessageEvent(groupId, message, traces));
    }

    private async Task TickAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        // Liveness needs a message per election timeout from each node; a quarter of it leaves room for losses.
        var options = _options(ReplicaId);
        var idleInterval = interval * Math.Max(options.HeartbeatIntervalTicks, options.ElectionTimeoutTicks / 4);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _events.Writer.TryWrite(TickEvent.Instance);
                // With every range quiescent only node liveness is due: waking the loop (and the thread pool) every
                // tick would be most of an idle node's CPU. A range that wakes waits at most one idle interval for
                // its next tick; requests and messages never wait for ticks.
                var period = _allQuiescent ? idleInterval : interval;
                if (timer.Period != period) timer.Period = period;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var touched = new HashSet<HostedRange>();
        var reported = new HashSet<HostedRange>(); // leaders told their write is durable: they may have chosen slots
        var reader = _events.Reader;
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["node_id"] = _nodeId });
        try
        {
            while (reported.Count > 0 || await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                touched.Clear();
                touched.UnionWith(reported);
                reported.Clear();
                int taken = 0;
                while (taken++ < 10_000 && reader.TryRead(out var e)) Handle(e, touched);
                // A request or message may have woken a range: the ticker must tick every period again.
                if (_allQuiescent && touched.Any(r => !r.Core.IsQuiescent)) _allQuiescent = false;
                await HandleReadiesAsync(touched, reported).ConfigureAwait(false);
                if (_acceptSpansOpen) EndAcceptSpans(touched);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "Node {Node}: the replica loop failed; the node stops serving", _nodeId);
            throw;
        }
    }

    private void Handle(HostEvent e, HashSet<HostedRange> touched)
    {
        switch (e)
        {
            case TickEvent:
                OnTick(touched);
                break;
            case PeerMessageEvent m when _ranges.TryGetValue(m.GroupId, out var r):
                if (m.Message is InstallSnapshot) r.SnapshotSource = (ulong)m.Message.From;
                if (m.Traces is not null || r.Traces is not null) TraceDelivered(r, m);
                r.Core.Step(m.Message);
                touched.Add(r);
                break;
            case RestoreFetchedEvent f when _ranges.TryGetValue(f.RangeId, out var r) && r.Restore == f.Restore:
                FinishRestore(r);
                break;
            case MembershipEvent m:
                ProposeMembership(m, touched);
                break;
            case AdoptEvent adopt:
                Adopt(adopt.Descriptors);
                break;
            case RebuildEvent rebuild when _ranges.TryGetValue(rebuild.RangeId, out var r):
                BeginRebuild(r, rebuild.Reason);
                break;
            case ProposeEvent p:
                Propose(p, touched);
                break;
            case LocalReadEvent local:
                ReadLocal(local);
                break;
            case ReadEvent read:
                Read(read, touched);
                break;
            case TransferLeadershipEvent transfer:
                TransferLeadership(transfer, touched);
                break;
            case HandOffEvent:
                foreach (var r in _ranges.Values.Where(r => r.Core.IsLeader))
                {
                    var successor = r.Core.LatestConfiguration?.Voters.FirstOrDefault(v => v != ReplicaId) ?? 0;
                    if (successor != 0) r.Core.TransferLeadership(successor);
                    touched.Add(r);
                }
                break;
        }
    }

    private void Propose(ProposeEvent p, HashSet<HostedRange> touched)
    {
        if (!_ranges.TryGetValue(p.RangeId, out var r))
        {
            p.Completion.TrySetException(new RangeNotHostedException(p.RangeId, _nodeId));
            return;
        }
        var status = r.Core.Propose(p.Command);
        if (status != RequestStatus.Accepted)
        {
            p.Completion.TrySetException(status == RequestStatus.NotLeader
                ? new NotLeaderException(p.RangeId, r.Core.LeaderHint)
                : new InvalidOperationException($"Range {p.RangeId} refused the proposal: {status}."));
            return;
        }
        // A retry of a write still in flight replaces the older waiter: both are the same write.
        if (r.PendingWrites.Remove((p.Command.ClientId, p.Command.Sequence), out var older))
            older.TrySetCanceled();
        r.PendingWrites[(p.Command.ClientId, p.Command.Sequence)] = p.Completion;
        if (p.Span is not null) (r.Traces ??= new RangeTraces(r.RangeId, _nodeId)).Proposed(p.Command, p.Span);
        _metrics?.Proposed(p.RangeId);
        touched.Add(r);
    }

    private void ProposeMembership(MembershipEvent m, HashSet<HostedRange> touched)
    {
        if (!_ranges.TryGetValue(m.RangeId, out var r))
        {
            m.Completion.TrySetException(new RangeNotHostedException(m.RangeId, _nodeId));
            return;
        }
        var latest = r.Core.LatestConfiguration;
        if (latest is not null && latest.Apply(m.Change).Equals(latest) && r.Core.IsLeader)
        {
            m.Completion.TrySetResult(new RangeCommandResult { Succeeded = true });
            return;
        }
        var status = r.Core.ProposeMembership(m.Change);
        switch (status)
        {
            case RequestStatus.Accepted:
                touched.Add(r);
                m.Completion.TrySetResult(new RangeCommandResult { Succeeded = true });
                break;
            case RequestStatus.NotLeader:
                m.Completion.TrySetException(new NotLeaderException(m.RangeId, r.Core.LeaderHint));
                break;
            default:
                m.Completion.TrySetException(new InvalidOperationException(
                    $"Range {m.RangeId} refused the membership change {m.Change.Kind} {m.Change.ReplicaId}: another change is in progress, or it does not apply."));
                break;
        }
    }

    private void ReadLocal(LocalReadEvent read)
    {
        if (!_ranges.TryGetValue(read.RangeId, out var r))
        {
            read.Completion.TrySetException(new RangeNotHostedException(read.RangeId, _nodeId));
            return;
        }
        try
        {
            read.Completion.TrySetResult(read.Read(r.StateMachine));
        }
        catch (Exception e)
        {
            read.Completion.TrySetException(e);
        }
    }

    private void Read(ReadEvent read, HashSet<HostedRange> touched)
    {
        if (!_ranges.TryGetValue(read.RangeId, out var r))
        {
            read.Completion.TrySetException(new RangeNotHostedException(read.RangeId, _nodeId));
            return;
        }
        long id = ++r.NextReadId;
        var status = r.Core.RequestRead(id);
        if (status != RequestStatus.Accepted)
        {
            read.Completion.TrySetException(new NotLeaderException(read.RangeId, r.Core.LeaderHint));
            return;
        }
        r.PendingReads[id] = (read.Read, read.Completion);
        touched.Add(r);
    }

    private async Task HandleReadiesAsync(HashSet<HostedRange> touched, HashSet<HostedRange> reported)
    {
        var readies = new List<(HostedRange Range, Ready Ready)>();
        foreach (var r in touched)
        {
            var ready = r.Core.TakeReady();
            if (ready.IsEmpty) continue;
            readies.Add((r, ready));
            r.Traces?.Placed(ready);
            _metrics?.ObserveReady(r.RangeId, r.Core, ready);
        }
        if (readies.Count == 0) return;
        // A leader's Accepts leave now, in parallel with its own write of them (PAXOS.md §10). The previous round's
        // write has returned, so only this round's writes are pending: the Readies stay in order.
        foreach (var (range, ready) in readies)
            for (int i = 0; i < ready.EarlyMessageCount; i++) Send(range, ready.Messages[i]);
        if (readies.Exists(x => x.Ready.MustSync))
        {
            await _committer.CommitAsync(readies, (batch, all) =>
            {
                foreach (var (range, ready) in all)
                    if (ready.MustWrite) _paxosState.AddToBatch(batch, checked((long)range.RangeId), ready);
            }).ConfigureAwait(false);
        }
        else if (readies.Exists(x => x.Ready.MustWrite))
        {
            // Only chosen-prefix advances: written in order before this round's applies, but not waited on
            // (PAXOS.md §11). The WAL keeps a prefix across a crash, so an applied command never outlives the
            // chosen mark that covers it.
            using var batch = new WriteBatch();
            foreach (var (range, ready) in readies)
                if (ready.MustWrite) _paxosState.AddToBatch(batch, checked((long)range.RangeId), ready);
            _store.Db.Write(batch, _store.UnsyncedWrite);
        }
        // Durable: report it (a leader may now count its own acceptance and choose slots: it is taken again next
        // round), then the replies may leave and the chosen commands may be applied.
        var work = new List<(HostedRange Range, IReadOnlyList<ChosenEntry> Entries)>();
        foreach (var (range, ready) in readies)
        {
            range.Core.Persisted(ready.Sequence);
            if (range.Traces is not null) TraceDurable(range, ready);
            if (ready.MustSync && range.Core.IsLeader) reported.Add(range);
            for (int i = ready.EarlyMessageCount; i < ready.Messages.Count; i++) Send(range, ready.Messages[i]);
            if (ready.SnapshotToApply is { } snapshot) BeginInstall(range, snapshot);
            if (range.Restore is not null)
            {
                range.Restore.Deferred.Enqueue(ready);
                continue;
            }
            if (ready.Chosen.Count > 0) work.Add((range, ready.Chosen));
        }
        ApplyAndComplete(work);
        foreach (var (range, ready) in readies)
            if (range.Restore is null || !range.Restore.Deferred.Contains(ready)) CompleteReads(range, ready);
        foreach (var (range, _) in work) MaybeCompact(range);
    }

    /// <summary>
    /// Applies chosen entries of several ranges in one (unsynced) batch, starts the replicas of ranges they split
    /// off, publishes descriptor changes and answers the writes waiting on the entries.
    /// </summary>
    private void ApplyAndComplete(IReadOnlyList<(HostedRange Range, IReadOnlyList<ChosenEntry> Entries)> work, Action<WriteBatch>? first = null)
    {
        while (true)
        {
            try
            {
                ApplyOnce(work, first);
                return;
            }
            catch (CorruptApplyException e)
            {
                // Nothing of the round was written. Every range it touched reloads its state machine from storage
                // (their in-memory state ran ahead); the culprit is rebuilt from its peers, which replays its log up
                // to what the core handed out; the others apply the same entries again.
                _logger.LogError(e.InnerException, "Range {Range}: corrupt data found while applying; rebuilding the replica from its peers", e.Range.RangeId);
                foreach (var (range, _) in work) range.StateMachine = new RangeStateMachine(range.RangeId, KeySpan.All, _mvcc, _meta);
                if (e.Range.Restore is { } stale)
                {
                    stale.Cancel.Cancel();
                    e.Range.Restore = null;
                }
                BeginRebuild(e.Range, "corrupt data found while applying");
                work = work.Where(w => w.Range != e.Range).ToList();
                if (e.Range == _restoring) first = null;
                if (work.Count == 0 && first is null) return;
            }
        }
    }

    // The range whose restore ApplyAndComplete is finishing (its `first` action), so that a failure there drops it.
    private HostedRange? _restoring;

    private void ApplyOnce(IReadOnlyList<(HostedRange Range, IReadOnlyList<ChosenEntry> Entries)> work, Action<WriteBatch>? first)
    {
        if (work.Count == 0 && first is null) return;
        using var applyBatch = new WriteBatch();
        first?.Invoke(applyBatch);
        var applied = new List<(HostedRange Range, IReadOnlyList<AppliedCommand> Results)>();
        foreach (var (range, entries) in work)
        {
            if (entries.Count == 0) continue;
            try
            {
                applied.Add((range, range.StateMachine.Apply(applyBatch, entries)));
            }
            catch (StorageCorruptionException e)
            {
                throw new CorruptApplyException(range, e);
            }
        }
        var splitOffs = new List<(HostedRange Left, RangeSplitOff Split)>();
        foreach (var (range, _) in applied)
            foreach (var split in range.StateMachine.TakeSplitOffs())
            {
                // A replay (after a rebuild) meets splits whose new range runs here already: never touch its state.
                if (_ranges.ContainsKey(split.Right.RangeId)) continue;
                // The new group's genesis goes into the same batch as the split itself: after a crash both or
                // neither exist, and a replay of the split recreates it.
                ClusterGenesis.AddPaxosGenesis(_paxosState, applyBatch, split.Right.RangeId, range.Core.ConfigurationAt(split.Slot)!, split.GenesisState);
                splitOffs.Add((range, split));
            }
        _store.Db.Write(applyBatch);
        foreach (var (left, split) in splitOffs) StartSplitOff(left, split);
        foreach (var (range, _) in work) PublishChanges(range);
        foreach (var (range, results) in applied)
            foreach (var result in results)
                if (range.PendingWrites.Remove((result.ClientId, result.Sequence), out var waiter))
                    waiter.TrySetResult(result.Result);
    }

    /// <summary>Hands the descriptors and node registry entries a range's state machine changed to the node's views.</summary>
    private void PublishChanges(HostedRange range)
    {
        var changes = range.StateMachine.TakeDescriptorChanges();
        if (changes.Count > 0) _directory?.Update(changes);
        var nodes = range.StateMachine.TakeNodeChanges();
        if (nodes.Count > 0) _addresses?.Update(nodes);
    }

    private void StartSplitOff(HostedRange left, RangeSplitOff split)
    {
        ulong id = split.Right.RangeId;
        if (_ranges.ContainsKey(id))
        {
            _logger.LogError("Range {Left} split off range {Right}, which node {Node} already hosts; keeping the existing replica", left.RangeId, id, _nodeId);
            return;
        }
        AddRange(id);
        _logger.LogInformation("Range {Left} split at slot {Slot}: node {Node} now also hosts {Right}", left.RangeId, split.Slot, _nodeId, Descriptors.Describe(split.Right));
    }

    private void CompleteReads(HostedRange range, Ready ready)
    {
        foreach (var read in ready.ReadsReady)
            if (range.PendingReads.Remove(read.ReadId, out var pending))
            {
                try
                {
                    pending.Completion.TrySetResult(pending.Read(range.StateMachine));
                }
                catch (StorageCorruptionException e)
                {
                    // Fail this read, and rebuild the replica's data from its peers.
                    pending.Completion.TrySetException(e);
                    _logger.LogError(e, "Range {Range}: corrupt data found while reading; rebuilding the replica from its peers", range.RangeId);
                    BeginRebuild(range, "corrupt data found by a read");
                }
                catch (Exception e)
                {
                    pending.Completion.TrySetException(e);
                }
            }
        foreach (long failed in ready.ReadsFailed)
            if (range.PendingReads.Remove(failed, out var pending))
                pending.Completion.TrySetException(new NotLeaderException(range.RangeId, range.Core.LeaderHint));
        foreach (var abandoned in ready.AbandonedProposals)
            if (range.PendingWrites.Remove((abandoned.ClientId, abandoned.Sequence), out var waiter))
                waiter.TrySetException(new NotLeaderException(range.RangeId, range.Core.LeaderHint));
    }

    /// <summary>Stops the loop and the ticker; pending requests are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loop, _ticker).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        // Cancelled through _stop; the loop that starts them has ended, so no new one can begin.
        await StopFetchesAsync().ConfigureAwait(false);
        foreach (var r in _ranges.Values)
        {
            foreach (var w in r.PendingWrites.Values) w.TrySetCanceled();
            foreach (var (_, c) in r.PendingReads.Values) c.TrySetCanceled();
        }
        _stop.Dispose();
    }
}
