using Google.Protobuf;
using Kv.Server.Replication;
using Kv.Storage.Mvcc;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// Serializable reads (<c>READ_CONSISTENCY_SERIALIZABLE</c>): served by this node from its own replica of the key's
/// range as applied now (<see cref="ReplicaHost.ReadAppliedAsync"/>), whether or not it leads, with no lease check and
/// no consensus round. Whatever the replica cannot answer goes the linearizable way instead: no replica here (that
/// path answers RangeMoved), a replica without state or being restored, and a staged version, whose transaction the
/// linearizable path waits for or finishes (an uncommitted value is never returned; at a follower that path answers
/// NotLeader, and the client goes to the leader).
/// </summary>
public sealed partial class KvService
{
    /// <summary>The answer from this node's replica, or null when the request must take the linearizable path.</summary>
    private async Task<Wire.GetResponse?> GetAppliedAsync(ByteString key, byte[] keyBytes, CancellationToken ct)
    {
        var read = await RoutedAsync(key, route => _host.ReadAppliedAsync(route.RangeId, keyBytes, ct)).ConfigureAwait(false);
        if (read is not { } found || found.Status == MvccReadStatus.StagedVersionEncountered) return null;
        return ToGetResponse(found);
    }

    /// <summary>A scan page from this node's replica, or null when the request must take the linearizable path.</summary>
    private async Task<(MvccScanPage Page, RangeRoute Route)?> ScanAppliedAsync(
        ByteString routingKey, KeySpan span, int limit, bool reverse, Func<RangeRoute> locate, CancellationToken ct)
    {
        RangeRoute route = null!;
        var page = await RoutedAsync(routingKey, r =>
        {
            route = r;
            return _host.ScanAppliedAsync(r.RangeId, Api.ScanPaging.Clip(span, r.Span), limit, reverse, ct);
        }, locate).ConfigureAwait(false);
        if (page is null || page.Entries.Any(e => e.Result.Status == MvccReadStatus.StagedVersionEncountered)) return null;
        return (page, route);
    }
}
