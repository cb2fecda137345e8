using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.Server.Snapshots;

/// <summary>The <c>kv.v1.Snapshots</c> service (snapshot.proto): creation, listing, deletion and export of snapshots.</summary>
internal sealed class SnapshotsService(SnapshotCoordinator coordinator, SnapshotCheckpointer checkpointer, SnapshotReader reader)
    : Proto.V1.Snapshots.SnapshotsBase
{
    private const int ChunkEntriesDefault = 1024;
    private const int ChunkEntriesMax = 16 * 1024;

    public override Task<SnapshotManifest> Create(CreateSnapshotRequest request, ServerCallContext context) =>
        Serve(() => coordinator.CreateAsync(request.Name, context.CancellationToken));

    public override Task<ListSnapshotsResponse> List(ListSnapshotsRequest request, ServerCallContext context) =>
        Serve(async () =>
        {
            var response = new ListSnapshotsResponse();
            response.Snapshots.AddRange(await coordinator.ListAsync(request.Forwarded, context.CancellationToken).ConfigureAwait(false));
            return response;
        });

    public override Task<SnapshotManifest> Show(ShowSnapshotRequest request, ServerCallContext context) =>
        Serve(async () => await FindAsync(request.Name, context.CancellationToken).ConfigureAwait(false));

    public override Task<DeleteSnapshotResponse> Delete(DeleteSnapshotRequest request, ServerCallContext context) =>
        Serve(async () =>
        {
            await coordinator.DeleteAsync(request.Name, context.CancellationToken).ConfigureAwait(false);
            return new DeleteSnapshotResponse();
        });

    public override Task<SnapshotCheckpointResponse> Checkpoint(SnapshotCheckpointRequest request, ServerCallContext context) =>
        Serve(() => checkpointer.CheckpointAsync(request, context.CancellationToken));

    public override async Task Export(ExportSnapshotRangeRequest request, IServerStreamWriter<SnapshotDataChunk> responseStream, ServerCallContext context)
    {
        if (request.ChunkEntriesMax > ChunkEntriesMax)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"chunk_entries_max must be at most {ChunkEntriesMax}, got {request.ChunkEntriesMax}"));
        var manifest = (await coordinator.ListAsync(forwarded: false, context.CancellationToken).ConfigureAwait(false))
            .FirstOrDefault(s => s.Id == request.SnapshotId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no published snapshot has id '{request.SnapshotId}'"));
        int entries = request.ChunkEntriesMax > 0 ? (int)request.ChunkEntriesMax : ChunkEntriesDefault;
        await foreach (var chunk in reader.ReadAsync(manifest, request.RangeId, entries, context.CancellationToken).ConfigureAwait(false))
            await responseStream.WriteAsync(chunk, context.CancellationToken).ConfigureAwait(false);
    }

    private async Task<SnapshotManifest> FindAsync(string name, CancellationToken ct) =>
        (await coordinator.ListAsync(forwarded: false, ct).ConfigureAwait(false)).FirstOrDefault(s => s.Name == name)
        ?? throw SnapshotCoordinator.NotFound(name);

    private static async Task<T> Serve<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (Replication.NotLeaderException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
        catch (SnapshotCoordinatorStoppedException e)
        {
            throw new RpcException(new Status(StatusCode.Aborted, e.Message));
        }
    }
}
