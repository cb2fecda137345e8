using System.Diagnostics;
using System.Globalization;
using System.Text;
using Grpc.Core;
using Kv.Proto.V1;

namespace Kv.Load;

/// <summary>One 200 ms interval of a timeline run.</summary>
/// <param name="TS">End of the interval, seconds since the run's start.</param>
/// <param name="EpochMs">End of the interval, Unix time in ms (to line up with a script's events).</param>
/// <param name="Ops">Transactions that succeeded in the interval.</param>
/// <param name="OpsPerSecond"><paramref name="Ops"/> ÷ the interval's length.</param>
/// <param name="Errors">Transactions that failed in the interval.</param>
/// <param name="Retries">Attempts run again after a conflict, by transactions that finished in the interval.</param>
/// <param name="LiveNodes">Nodes whose latest NodeStatus answer (polled every 200 ms, 1 s deadline) is under 1 s old; a node that refused or failed its last poll is not live.</param>
/// <param name="Locks">Transaction locks on the answering nodes: per range, the most any answering replica holds; summed over ranges.</param>
/// <param name="Ranges">Ranges (meta range included) that some answering node has a replica of.</param>
/// <param name="RangesLed">Of those, the ones an answering node leads.</param>
/// <param name="LocksByNode">Per node (1-based; index 0 unused): the sum of txn_locks over its replicas, or -1 if it did not answer.</param>
/// <param name="LeadersByNode">Per node: how many ranges it leads, or -1 if it did not answer.</param>
/// <param name="InDoubt">Transactions whose commit failed and that still have a key that does not answer reads (client's view).</param>
/// <param name="AnsweredBlocked">Transactions answered committed just before a failed commit that still have such a key.</param>
/// <param name="BlockedKeys">The keys of both that do not answer yet.</param>
/// <param name="CommitsByNode">Commits sent to each node in the interval (index 0: no leader known, sent to a seed).</param>
/// <param name="Coordinator">The node most commits went to over the last second (0: none).</param>
internal sealed record TimelineRow(
    double TS, long EpochMs, long Ops, double OpsPerSecond, long Errors, long Retries, int LiveNodes, int Locks,
    int Ranges, int RangesLed, int[] LocksByNode, int[] LeadersByNode, int InDoubt, int AnsweredBlocked, int BlockedKeys, long[] CommitsByNode, int Coordinator);

/// <summary>
/// <c>--timeline FILE</c>: every 200 ms, the throughput of the last interval and every node's latest NodeStatus
/// (transaction locks, leaderships), written to a CSV file as the run goes (a script can read the current coordinator
/// from its last line) and kept for the summary. Each node is polled by a loop of its own (every 200 ms, or as soon
/// as a slow answer comes), so that a node busy electing does not hold up the row or drop out of it.
/// </summary>
internal sealed class Timeline
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>The deadline of one NodeStatus poll, and the age past which a node's last answer no longer counts.</summary>
    private static readonly TimeSpan StatusFreshFor = TimeSpan.FromSeconds(1);

    private readonly string _path;
    private readonly ClusterAdmin _admin;
    private readonly TransferWorkload _workload;
    private readonly List<TimelineRow> _rows = [];

    public Timeline(string path, ClusterAdmin admin, TransferWorkload workload)
    {
        _path = path;
        _admin = admin;
        _workload = workload;
    }

    /// <summary>The run's start as Unix time in ms (the epoch of t = 0).</summary>
    public long StartEpochMs { get; private set; }

    public InDoubtTracker? Tracker { get; private set; }

    public IReadOnlyList<TimelineRow> Rows => _rows;

    /// <summary>Samples until <paramref name="stop"/> is cancelled; <paramref name="start"/> is the run's start (Stopwatch timestamp).</summary>
    public async Task RunAsync(long start, LoadCounters counters, CancellationToken stop)
    {
        StartEpochMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Tracker = new InDoubtTracker(_admin.Endpoints, start, stop);
        _workload.Tracker = Tracker;
        int nodes = _admin.Endpoints.Count;
        await using var file = new StreamWriter(_path, append: false, new UTF8Encoding(false));
        var header = new StringBuilder("t_s,epoch_ms,ops,ops_per_s,errors,retries,live_nodes,locks,ranges,ranges_led");
        for (int n = 1; n <= nodes; n++) header.Append(CultureInfo.InvariantCulture, $",locks_n{n}");
        for (int n = 1; n <= nodes; n++) header.Append(CultureInfo.InvariantCulture, $",leaders_n{n}");
        header.Append(",in_doubt,answered_blocked,blocked_keys,commits_unknown");
        for (int n = 1; n <= nodes; n++) header.Append(CultureInfo.InvariantCulture, $",commits_n{n}");
        header.Append(",coordinator");
        await file.WriteLineAsync(header.ToString()).ConfigureAwait(false);

        long lastAt = Stopwatch.GetTimestamp();
        long lastSucceeded = counters.Succeeded, lastErrors = counters.Errors, lastRetries = counters.Retries;
        var lastCommits = _workload.CommitsByNode.ToArray();
        var recentCommits = new Queue<long[]>();
        var latest = new StatusSnapshot?[nodes];
        var pollers = Enumerable.Range(1, nodes).Select(n => PollAsync(n, latest, stop)).ToArray();
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long at = Stopwatch.GetTimestamp();
                long epochMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                long succeeded = counters.Succeeded, errors = counters.Errors, retries = counters.Retries;
                var commits = _workload.CommitsByNode.ToArray();
                var statuses = new NodeStatusResponse?[nodes];
                for (int n = 0; n < nodes; n++)
                {
                    var snapshot = Volatile.Read(ref latest[n]);
                    statuses[n] = snapshot is { Status: { } status } && Stopwatch.GetElapsedTime(snapshot.At, at) < StatusFreshFor ? status : null;
                }

                var commitsNow = commits.Zip(lastCommits, (a, b) => a - b).ToArray();
                recentCommits.Enqueue(commitsNow);
                while (recentCommits.Count > 5) recentCommits.Dequeue();
                int coordinator = 0;
                long most = 0;
                for (int n = 1; n <= nodes; n++)
                {
                    long sum = recentCommits.Sum(c => c[n]);
                    if (sum > most) (coordinator, most) = (n, sum);
                }

                var locksByNode = new int[nodes + 1];
                var leadersByNode = new int[nodes + 1];
                var perRange = new Dictionary<ulong, int>();
                var led = new HashSet<ulong>();
                int live = 0;
                for (int n = 1; n <= nodes; n++)
                {
                    if (statuses[n - 1] is not { } status)
                    {
                        locksByNode[n] = leadersByNode[n] = -1;
                        continue;
                    }
                    live++;
                    foreach (var replica in status.Replicas)
                    {
                        locksByNode[n] += replica.TxnLocks;
                        ulong range = replica.Range?.RangeId ?? 0;
                        if (replica.IsLeader)
                        {
                            leadersByNode[n]++;
                            led.Add(range);
                        }
                        perRange[range] = Math.Max(perRange.GetValueOrDefault(range), replica.TxnLocks);
                    }
                }
                var blocked = Tracker.Blocked();
                double seconds = (at - lastAt) / (double)Stopwatch.Frequency;
                var row = new TimelineRow(
                    Stopwatch.GetElapsedTime(start, at).TotalSeconds, epochMs, succeeded - lastSucceeded,
                    seconds > 0 ? (succeeded - lastSucceeded) / seconds : 0, errors - lastErrors, retries - lastRetries, live,
                    perRange.Values.Sum(), perRange.Count, led.Count, locksByNode, leadersByNode, blocked.Failed, blocked.Answered, blocked.Keys, commitsNow, coordinator);
                _rows.Add(row);
                await file.WriteLineAsync(Csv(row)).ConfigureAwait(false);
                await file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                (lastAt, lastSucceeded, lastErrors, lastRetries, lastCommits) = (at, succeeded, errors, retries, commits);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        await Task.WhenAll(pollers).ConfigureAwait(false);
        await Tracker.DisposeAsync().ConfigureAwait(false); // the probes end with the run
    }

    /// <summary>Polls node <paramref name="node"/> every <see cref="Interval"/> (at once after a slow answer) into <paramref name="latest"/>.</summary>
    private async Task PollAsync(int node, StatusSnapshot?[] latest, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            long began = Stopwatch.GetTimestamp();
            NodeStatusResponse? status = null;
            try
            {
                status = await _admin.Node(node).NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow + StatusFreshFor,
                    cancellationToken: stop).ConfigureAwait(false);
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // Down, refusing, or too slow: not live until it answers again.
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException && stop.IsCancellationRequested)
            {
                return;
            }
            long answeredAt = Stopwatch.GetTimestamp();
            Volatile.Write(ref latest[node - 1], new StatusSnapshot(status, answeredAt));
            var rest = Interval - Stopwatch.GetElapsedTime(began, answeredAt);
            if (rest > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(rest, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>A node's latest NodeStatus answer (null: its last poll failed) and when it came (Stopwatch timestamp).</summary>
    private sealed record StatusSnapshot(NodeStatusResponse? Status, long At);

    private static string Csv(TimelineRow r)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{r.TS:0.000},{r.EpochMs},{r.Ops},{r.OpsPerSecond:0.0},{r.Errors},{r.Retries},{r.LiveNodes},{r.Locks},{r.Ranges},{r.RangesLed}");
        foreach (int v in r.LocksByNode.Skip(1)) s.Append(',').Append(v < 0 ? "" : v.ToString(CultureInfo.InvariantCulture));
        foreach (int v in r.LeadersByNode.Skip(1)) s.Append(',').Append(v < 0 ? "" : v.ToString(CultureInfo.InvariantCulture));
        s.Append(CultureInfo.InvariantCulture, $",{r.InDoubt},{r.AnsweredBlocked},{r.BlockedKeys}");
        foreach (long v in r.CommitsByNode) s.Append(',').Append(v.ToString(CultureInfo.InvariantCulture));
        s.Append(',').Append(r.Coordinator.ToString(CultureInfo.InvariantCulture));
        return s.ToString();
    }
}
