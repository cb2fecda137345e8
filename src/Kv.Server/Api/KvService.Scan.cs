using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Replication;
using Kv.Storage.Mvcc;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

public sealed partial class KvService
{
    /// <summary>
    /// One page of a scan, within one range. An empty <c>end_key</c> means no upper bound; a page never crosses a
    /// range boundary, so when the range ends before the scan does, <c>resume_key</c> points at the next range.
    /// <para>
    /// Forward: the page covers [start, min(end, range end)); <c>resume_key</c> is the key right after the page's
    /// last entry (that key and a 0 byte) when the page is full, else the range's end when the scan goes on past
    /// it, else empty. Send it as the next <c>start_key</c>. Reverse: the page covers [max(start, range start),
    /// end) from the top; <c>resume_key</c> is the page's last (lowest) key when full, else the range's start when
    /// the scan goes on below it, else empty. Send it as the next <c>end_key</c>.
    /// </para>
    /// </summary>
    private async Task<Wire.ScanResponse> ScanCoreAsync(Wire.ScanRequest request, CancellationToken ct)
    {
        byte[] start = request.StartKey.ToByteArray();
        byte[]? end = request.EndKey.IsEmpty ? null : request.EndKey.ToByteArray();
        int limit = request.Limit == 0 ? _limits.ScanLimitDefault : (int)request.Limit;
        RangeRoute Locate() => request.Reverse ? _locator.LocateBefore(end ?? []) : _locator.Locate(start);
        RangeRoute route = null!;
        MvccScanPage page;
        var at = await SnapshotTimestampAsync(request.Consistency, request.ReadTimestamp, ct).ConfigureAwait(false);
        var local = request.Consistency == Wire.ReadConsistency.Serializable
            ? await ScanAppliedAsync(request.StartKey, new KeySpan(start, end), limit, request.Reverse, Locate, ct).ConfigureAwait(false)
            : null;
        if (local is { } served)
        {
            (page, route) = served;
        }
        else
        {
            for (int attempt = 0; ; attempt++)
            {
                page = await RoutedAsync(request.StartKey, async r =>
                {
                    route = r;
                    if (at != StorageTimestamp.Max) await ClosedTimestamps.EnsureAsync(_host, _clock, r.RangeId, at, ct).ConfigureAwait(false);
                    return await _host.ScanAsync(r.RangeId, ScanPaging.Clip(new KeySpan(start, end), r.Span), limit, request.Reverse, resumeKey: null, ct, at)
                        .ConfigureAwait(false);
                }, Locate).ConfigureAwait(false);
                var staged = page.Entries.FirstOrDefault(e => e.Result.Status == MvccReadStatus.StagedVersionEncountered);
                if (staged.Key is null) break;
                // A transaction is committing a key of the page: wait for it (or finish it), then read the page again.
                var held = await _host.WriteLocksAsync(route.RangeId, [staged.Key], ct).ConfigureAwait(false);
                await WaitForTransactionAsync(staged.Key, staged.Result.Staged, held.FirstOrDefault(), attempt, ct).ConfigureAwait(false);
            }
        }

        var response = new Wire.ScanResponse();
        bool cut = ScanPaging.AddEntries(page, response.Entries, _limits.ScanResponseBytesMax);
        response.ResumeKey = ScanPaging.ResumeKey(request.Reverse, request.StartKey, request.EndKey, route,
            response.Entries.Count > 0 ? response.Entries[^1].Key : null, full: cut || page.ResumeKey is not null);
        // A snapshot scan's timestamp, for the next pages (a linearizable scan reads the latest state of each page).
        if (at != StorageTimestamp.Max) response.ReadTimestamp = ToWire(at);
        return response;
    }
}
