using Grpc.Core;
using Kv.Proto.V1;
using Kv.Server.Clock;
using Kv.Server.Peers;
using Kv.Server.Ranges;
using Kv.Server.Replication;
using Kv.Txn.Coordination;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Snapshots;

/// <summary>
/// Creates, lists and deletes snapshots (docs/snapshots.md). Creation mirrors Paxos commit: a piece through
/// every range's log (the stages), one checkpoint per node holding them, then a conditional manifest through
/// the meta range's log (the decision). Only a published manifest is listed; a creation that stops half-way
/// leaves hidden pieces that the sweepers abort and remove.
/// </summary>
internal sealed class SnapshotCoordinator(
    ulong nodeId,
    RangeProposer proposer,
    RangeDirectory directory,
    ReplicaHost host,
    HybridLogicalClock clock,
    TxnCoordinator txns,
    PeerChannels channels,
    SnapshotCheckpointer checkpointer,
    ILogger<SnapshotCoordinator> logger,
    Telemetry.SnapshotMetrics? metrics = null)
{
    private const int CoverageRoundsMax = 20;
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CheckpointCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Test hook: stop creation at a step.</summary>
    internal ISnapshotFailPoints? FailPoints { get; set; }

    private long _piecesRefusedForLocks;

    /// <summary>Pieces a range refused because a transaction was staged at or below the timestamp (retried after it finished).</summary>
    internal long PiecesRefusedForLocks => Interlocked.Read(ref _piecesRefusedForLocks);

    /// <summary>Test hook: propose a broken piece.</summary>
    internal SnapshotPieceVariant PieceVariant { get; set; }

    /// <summary>Takes and publishes snapshot <paramref name="name"/>; returns its manifest.</summary>
    public async Task<SnapshotManifest> CreateAsync(string name, CancellationToken cancellationToken)
    {
        if (!SnapshotIds.IsValidName(name))
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"snapshot name '{name}' is invalid: use 1 to 64 letters, digits, '.', '_' or '-'"));
        if ((await ListAsync(forwarded: false, cancellationToken).ConfigureAwait(false)).Any(s => s.Name == name))
            throw AlreadyExists(name);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(CreateTimeout);
        var ct = bounded.Token;
        string id = SnapshotIds.New();
        var at = Kv.Txn.TxnWire.ToWire(await clock.NowAsync(ct).ConfigureAwait(false));
        logger.LogInformation("Snapshot {Name} ({Id}): taking pieces at {At}", name, id, at);
        using var progress = metrics?.StartCreate();
        try
        {
            var pieces = await TakePiecesAsync(id, at, ct).ConfigureAwait(false);
            if (FailPoints is { } f1) await f1.ReachedAsync(SnapshotStep.AfterPieces, id, ct).ConfigureAwait(false);
            var manifest = await CheckpointAsync(id, name, at, pieces, ct).ConfigureAwait(false);
            if (FailPoints is { } f2) await f2.ReachedAsync(SnapshotStep.BeforeManifest, id, ct).ConfigureAwait(false);
            manifest.CreatedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var published = await proposer.ProposeAsync(RangeIds.Meta, new RangeCommand { SnapshotPublish = new MetaSnapshotPublish { Manifest = manifest } }, ct)
                .ConfigureAwait(false);
            if (published.Succeeded)
            {
                progress?.Published();
                logger.LogInformation("Snapshot {Name} ({Id}) published: {Ranges} ranges at {At}", name, id, manifest.Ranges.Count, at);
                return manifest;
            }
            await AbortAsync(id).ConfigureAwait(false);
            if (published.Found) throw AlreadyExists(name);
            throw new RpcException(new Status(StatusCode.Aborted, $"snapshot '{name}' was not published: {published.Error}; try again"));
        }
        catch (SnapshotCoordinatorStoppedException)
        {
            throw;
        }
        catch (Exception e) when (e is not RpcException)
        {
            await AbortAsync(id).ConfigureAwait(false);
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"snapshot '{name}' took longer than {CreateTimeout.TotalSeconds:0} s and was abandoned"));
            throw;
        }
    }

    /// <summary>The published snapshots, read at the meta range's leader (forwarded there once when it is elsewhere).</summary>
    public async Task<IReadOnlyList<SnapshotManifest>> ListAsync(bool forwarded, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string problem;
        while (true)
        {
            try
            {
                return (await host.PublishedSnapshotsAsync(cancellationToken).ConfigureAwait(false)).OrderBy(s => s.CreatedUnixMs).ToList();
            }
            catch (NotLeaderException e) when (!forwarded && e.LeaderHint is { } leader && (ulong)leader != nodeId && channels.For((ulong)leader) is { } channel)
            {
                try
                {
                    var response = await new Proto.V1.Snapshots.SnapshotsClient(channel).ListAsync(new ListSnapshotsRequest { Forwarded = true },
                        deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
                    return response.Snapshots;
                }
                catch (RpcException forwardFailed) when (forwardFailed.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    // The hinted leader is gone or has just lost the lead: ask again once a new one is elected.
                    problem = $"node {leader}, which led the meta range, did not answer ({forwardFailed.Status.Detail})";
                }
            }
            catch (NotLeaderException e)
            {
                problem = e.Message;
            }
            if (DateTime.UtcNow >= deadline)
                throw new RpcException(new Status(StatusCode.Unavailable, $"the meta range has no reachable leader ({problem}); retry shortly"));
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Unpublishes snapshot <paramref name="name"/>; the sweepers then remove its checkpoints.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (!SnapshotIds.IsValidName(name)) throw NotFound(name);
        var result = await proposer.ProposeAsync(RangeIds.Meta, new RangeCommand { SnapshotDelete = new MetaSnapshotDelete { Name = name } }, cancellationToken)
            .ConfigureAwait(false);
        if (!result.Found) throw NotFound(name);
    }

    internal static RpcException NotFound(string name) =>
        new(new Status(StatusCode.NotFound, $"no published snapshot is named '{name}' (see snapshot list)"));

    private static RpcException AlreadyExists(string name) =>
        new(new Status(StatusCode.AlreadyExists, $"a snapshot named '{name}' exists; pick another name or delete it first"));

    /// <summary>A piece through every range's log, until the pieces' spans cover the key space (splits may add ranges meanwhile).</summary>
    private async Task<List<RangeDescriptor>> TakePiecesAsync(string id, Proto.V1.Timestamp at, CancellationToken ct)
    {
        var pieces = new Dictionary<ulong, RangeDescriptor>();
        for (int round = 0; round < CoverageRoundsMax; round++)
        {
            var missing = directory.All.Where(d => !pieces.ContainsKey(d.RangeId) && !SnapshotCoverage.IsCovered(pieces.Values, d)).ToList();
            if (missing.Count == 0 && pieces.Count > 0 && SnapshotCoverage.Gap(pieces.Values) is null) return pieces.Values.ToList();
            var taken = await Task.WhenAll(missing.Select(d => TakePieceAsync(d.RangeId, id, at, ct))).ConfigureAwait(false);
            foreach (var d in taken) pieces[d.RangeId] = d;
            if (missing.Count == 0) await Task.Delay(50, ct).ConfigureAwait(false);
        }
        throw new RpcException(new Status(StatusCode.Unavailable,
            $"the ranges kept changing while the snapshot was taken (a gap at {SnapshotCoverage.Gap(pieces.Values)}); try again"));
    }

    private async Task<RangeDescriptor> TakePieceAsync(ulong rangeId, string id, Proto.V1.Timestamp at, CancellationToken ct)
    {
        var piece = new SnapshotPiece { SnapshotId = id, Timestamp = at };
        if (PieceVariant == SnapshotPieceVariant.SkipCloseAndLockCheck) piece.TestSkipClose = piece.TestSkipLockCheck = true;
        for (int attempt = 0; ; attempt++)
        {
            // Idempotent: applying the piece twice closes the same timestamp and records the same piece.
            var result = await proposer.ProposeIdempotentAsync(rangeId, new RangeCommand { SnapshotPiece = piece }, ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                metrics?.PieceTaken();
                return result.Descriptors[0];
            }
            if (result.LockedBy is null)
                throw new RpcException(new Status(StatusCode.Internal, $"range {rangeId} refused the snapshot piece: {result.Error}"));
            // A transaction staged at or below the timestamp may still commit there: let it finish, or finish it.
            Interlocked.Increment(ref _piecesRefusedForLocks);
            metrics?.PieceWaited();
            await txns.WaitOrRecoverAsync(result.LockedBy, attempt, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Asks every node holding a replica for its checkpoint, and builds the manifest from what they hold.</summary>
    private async Task<SnapshotManifest> CheckpointAsync(string id, string name, Proto.V1.Timestamp at, List<RangeDescriptor> pieces, CancellationToken ct)
    {
        var request = new SnapshotCheckpointRequest { SnapshotId = id, Timestamp = at };
        request.RangeIds.AddRange(pieces.Select(p => p.RangeId));
        var nodes = pieces.SelectMany(p => p.Replicas.Select(r => r.NodeId)).Distinct().Order().ToList();
        var answers = await Task.WhenAll(nodes.Select(n => CheckpointAtAsync(n, request, ct))).ConfigureAwait(false);
        var manifest = new SnapshotManifest { Id = id, Name = name, Timestamp = at };
        foreach (var piece in pieces.OrderBy(p => p.StartKey.ToByteArray(), ByteOrder.Instance))
        {
            var range = new SnapshotRange { Range = piece };
            foreach (var (node, answer) in nodes.Zip(answers))
            {
                if (answer is null) continue;
                int i = answer.RangeIds.IndexOf(piece.RangeId);
                if (i < 0) continue;
                range.NodeIds.Add(node);
                if (i < answer.RangeSizesBytes.Count) range.ApproximateSizeBytes = Math.Max(range.ApproximateSizeBytes, answer.RangeSizesBytes[i]);
            }
            if (range.NodeIds.Count == 0)
                throw new RpcException(new Status(StatusCode.Unavailable, $"no node could checkpoint range {piece.RangeId}; try again"));
            manifest.Ranges.Add(range);
        }
        return manifest;
    }

    private async Task<SnapshotCheckpointResponse?> CheckpointAtAsync(ulong node, SnapshotCheckpointRequest request, CancellationToken ct)
    {
        try
        {
            if (node == nodeId) return await checkpointer.CheckpointAsync(request, ct).ConfigureAwait(false);
            var channel = channels.For(node);
            if (channel is null) return null;
            return await new Proto.V1.Snapshots.SnapshotsClient(channel).CheckpointAsync(request,
                deadline: DateTime.UtcNow.Add(CheckpointCallTimeout), cancellationToken: ct).ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException && !ct.IsCancellationRequested)
        {
            // Another node holding the same ranges is enough; the manifest names only nodes that answered.
            logger.LogWarning(e, "Snapshot {Id}: node {Node} did not checkpoint", request.SnapshotId, node);
            return null;
        }
    }

    /// <summary>Best effort: aborts the id in the meta range so the sweepers remove its pieces at once (else after the orphan timeout).</summary>
    private async Task AbortAsync(string id)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await proposer.ProposeAsync(RangeIds.Meta, new RangeCommand { SnapshotAbort = new MetaSnapshotAbort { SnapshotId = id } }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or NotLeaderException)
        {
            logger.LogWarning(e, "Snapshot {Id}: abort not recorded; the sweepers abort it after the orphan timeout", id);
        }
    }
}

/// <summary>Thrown by a fail point to stop a coordinator (tests).</summary>
internal sealed class SnapshotCoordinatorStoppedException(SnapshotStep step) : Exception($"snapshot coordinator stopped at {step}");
