using Google.Protobuf;
using Kv.Server.Replication;

namespace Kv.Server.Api;

/// <summary>Routing of one client request to the range that holds its key, shared by the client-facing services.</summary>
internal static class RequestRouting
{
    public static async Task<T> RoutedAsync<T>(IRangeLocator locator, ByteString key, Func<RangeRoute, Task<T>> operation, Func<RangeRoute>? locate = null)
    {
        locate ??= () => locator.Locate(key.Span);
        for (int attempt = 0; ; attempt++)
        {
            var route = locate();
            Telemetry.KvTracing.TagRange(route.RangeId);
            try
            {
                return await operation(route).ConfigureAwait(false);
            }
            catch (NotLeaderException e)
            {
                throw KvErrors.NotLeader(route, e.LeaderHint);
            }
            catch (RangeNotHostedException)
            {
                throw KvErrors.RangeNotHosted(route);
            }
            catch (RangeMovedException e)
            {
                var now = locate();
                if (attempt < 3 && (now.RangeId != route.RangeId || now.Generation != route.Generation)) continue;
                throw KvErrors.RangeMoved(now, $"{e.Message} Refresh the range descriptor and retry.");
            }
        }
    }
}
