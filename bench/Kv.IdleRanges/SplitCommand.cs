using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.IdleRanges;

/// <summary>
/// Splits the key space at PREFIX0001..PREFIXN through <c>Admin/SplitRange</c>, spreading the calls over the
/// nodes and over a few workers (see <see cref="SplitKeys.Partition"/>), with progress on stderr.
/// </summary>
internal static class SplitCommand
{
    private const int AttemptsMax = 10;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(ClusterClients cluster, int count, string prefix, int workers)
    {
        var keys = SplitKeys.Make(prefix, count);
        var (pivots, runs) = SplitKeys.Partition(keys, workers);
        var progress = new SplitProgress(keys.Count);
        try
        {
            foreach (var pivot in pivots) await SplitOneAsync(cluster.Admin(1), pivot, progress).ConfigureAwait(false);
            await Task.WhenAll(runs.Select((run, i) => SplitRunAsync(cluster.Admin(i % cluster.Endpoints.Count + 1), run, progress))).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"split failed after {progress.Done} of {keys.Count}: {e.Status.StatusCode} {e.Status.Detail}");
            return 1;
        }
        progress.Report(force: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"splits={progress.Done}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split_s={progress.Elapsed.TotalSeconds:F1}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split_retries={progress.Retries}"));
        return 0;
    }

    private static async Task SplitRunAsync(Admin.AdminClient admin, IReadOnlyList<string> run, SplitProgress progress)
    {
        foreach (var key in run) await SplitOneAsync(admin, key, progress).ConfigureAwait(false);
    }

    private static async Task SplitOneAsync(Admin.AdminClient admin, string key, SplitProgress progress)
    {
        var request = new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(key) };
        bool retried = false;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await admin.SplitRangeAsync(request, deadline: DateTime.UtcNow + CallTimeout).ConfigureAwait(false);
                break;
            }
            // Transient: a node busy or electing. FAILED_PRECONDITION is what a split refused mid-election returns.
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.FailedPrecondition
                && attempt < AttemptsMax)
            {
                retried = true;
                progress.Retried(key, e);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
            }
            // An attempt whose answer was lost went through: the key already starts its range.
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && retried
                && e.Status.Detail.Contains("already starts", StringComparison.Ordinal))
            {
                break;
            }
        }
        progress.Completed();
    }
}
