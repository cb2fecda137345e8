using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Kv.Client;
using Kv.Proto.V1;

namespace Kv.Load;

/// <summary>
/// <c>--op setup</c> and <c>--op verify</c>: the transfer workload's bank. Setup splits the key space at evenly spaced
/// account keys (so that which accounts a transaction picks decides how many ranges it touches) and writes every
/// account with <see cref="Accounts.InitialBalance"/>; verify reads them all back and checks that the money adds up.
/// </summary>
internal static class AccountSetup
{
    public static async Task<int> SetupAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        using var admin = new ClusterAdmin(options.Endpoints);
        await admin.SplitAtAsync(Accounts.SplitKeys(options.Accounts, options.Ranges), cancellationToken).ConfigureAwait(false);
        double splitSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        await using var client = new KvClient(options.Endpoints, new KvClientOptions
        {
            WriteLanes = 64,
            PerCallTimeout = TimeSpan.FromSeconds(5),
            OverallDeadline = TimeSpan.FromSeconds(30),
        });
        long preloadStart = Stopwatch.GetTimestamp();
        var balance = Encoding.ASCII.GetBytes(Accounts.InitialBalance.ToString(CultureInfo.InvariantCulture));
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Accounts),
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (n, token) => await client.PutAsync(Encoding.ASCII.GetBytes(Accounts.Name(n)), balance, token).ConfigureAwait(false))
            .ConfigureAwait(false);
        double preloadSeconds = Stopwatch.GetElapsedTime(preloadStart).TotalSeconds;

        var ranges = await admin.ListRangesAsync(cancellationToken).ConfigureAwait(false);
        var layout = await LayoutAsync(admin, ranges, cancellationToken).ConfigureAwait(false);
        foreach (var line in layout.Lines) Console.Error.WriteLine(line);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ranges={ranges.Count} accounts={options.Accounts} split_s={splitSeconds:0.0} preload_s={preloadSeconds:0.0} leaders={layout.Leaders}"));
        return 0;
    }

    /// <summary>Each user range with its accounts and leader, and the count of ranges each node leads (meta range included).</summary>
    public static async Task<(IReadOnlyList<string> Lines, string Leaders)> LayoutAsync(
        ClusterAdmin admin, IReadOnlyList<RangeDescriptor> ranges, CancellationToken cancellationToken)
    {
        var statuses = await admin.StatusAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        var leaderOf = new Dictionary<ulong, ulong>();
        foreach (var status in statuses.OfType<NodeStatusResponse>())
            foreach (var replica in status.Replicas.Where(r => r.IsLeader))
                leaderOf[replica.Range.RangeId] = status.NodeId;
        var lines = new List<string>();
        foreach (var r in ranges.OrderBy(r => r.StartKey.ToStringUtf8(), StringComparer.Ordinal))
        {
            string end = r.EndKey.IsEmpty ? "(end)" : r.EndKey.ToStringUtf8();
            lines.Add($"range {r.RangeId}: [{(r.StartKey.IsEmpty ? "(start)" : r.StartKey.ToStringUtf8())}, {end}) leader node {(leaderOf.TryGetValue(r.RangeId, out var l) ? l.ToString(CultureInfo.InvariantCulture) : "none")}");
        }
        var counts = Enumerable.Range(1, admin.Endpoints.Count)
            .Select(n => $"n{n}:{leaderOf.Values.Count(v => v == (ulong)n)}");
        return (lines, string.Join(',', counts));
    }

    /// <summary>
    /// Scans every account (plain linearizable scan, page by page: run it when no transfers are running, so that the
    /// pages together are one state) and checks there are <see cref="LoadOptions.Accounts"/> of them holding
    /// <see cref="Accounts.InitialBalance"/> each on average. A scan meeting a transaction's lock waits for it to finish.
    /// </summary>
    public static async Task<int> VerifyAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await using var client = new KvClient(options.Endpoints, new KvClientOptions
        {
            PerCallTimeout = TimeSpan.FromSeconds(10),
            OverallDeadline = TimeSpan.FromSeconds(60),
        });
        long count = 0, total = 0, unreadable = 0;
        await foreach (var entry in client.ScanPrefixAsync(Accounts.Prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            count++;
            if (long.TryParse(entry.ValueString, NumberStyles.Integer, CultureInfo.InvariantCulture, out long balance)) total += balance;
            else unreadable++;
        }
        long expected = options.Accounts * Accounts.InitialBalance;
        bool ok = count == options.Accounts && total == expected && unreadable == 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verify accounts={count} total={total} expected={expected} unreadable={unreadable} ok={(ok ? "yes" : "NO")} seconds={Stopwatch.GetElapsedTime(start).TotalSeconds:0.0}"));
        return ok ? 0 : 1;
    }
}
