using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;
using Kv.Txn.Coordination;
using Xunit.Abstractions;

namespace Kv.Server.Tests.Process;

/// <summary>
/// A transaction coordinator that really dies, on three `Kv.Server node` processes started with
/// `--txn-crash-at STEP`: a node's process calls Environment.FailFast when a coordinator there reaches STEP (and
/// sends its stages one by one, so that every boundary exists). The data is split at "m"; a transaction reads "c"
/// (the home range, staged first) and "x" (the second range) and writes new values to both, committed at one node,
/// the coordinator. Only that node ever coordinates a transaction (recovery does not pass the crash points), so the
/// flag on the others is inert; it lets the test choose the coordinator by range leadership after the split. Once the
/// coordinator's process has exited, only the two other nodes serve:
/// <list type="bullet">
/// <item>Paxos commit, every step, with the coordinator leading the home range (so the survivors elect a leader
/// first) and with it leading no range: both keys read all-old (before the manifest) or all-new (after it), and
/// plain puts of both succeed, all within 3 s of the observed exit.</item>
/// <item>Two-phase commit, every step, with the coordinator leading the home range: from BetweenStages on, the
/// prepared keys do not answer for 3 s (DEADLINE_EXCEEDED) while their ranges serve other keys, and the keys outside
/// them read as they must; then the coordinator restarts without the crash flag and both keys read all-old
/// (presumed abort) or all-new (decision logged), and are writable. BeforeStage: nothing was prepared, nothing
/// blocks.</item>
/// </list>
/// Each case starts its own cluster (nothing is shared); the fifteen take about 1.5–2 minutes together.
/// The in-process version, with a fail point instead of a dying process: Txn/CoordinatorCrashTests.
/// </summary>
public sealed class TxnCrashProcessTests(ITestOutputHelper output) : IDisposable
{
    private const string SplitKey = "m";
    /// <summary>"c" is in the first range (and is the home key: the first write); "x" in the second.</summary>
    private static readonly string[] Keys = ["c", "x"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CrashTimeout = TimeSpan.FromSeconds(20);
    /// <summary>Paxos commit: the keys are readable and writable again within this long of the coordinator's death.</summary>
    private static readonly TimeSpan UnblockBound = TimeSpan.FromSeconds(3);
    /// <summary>Two-phase commit: how long the test waits for a prepared key, which must not answer.</summary>
    private static readonly TimeSpan BlockedWait = TimeSpan.FromSeconds(3);
    /// <summary>How long a helper keeps retrying before it gives up (the bounds above are asserted separately).</summary>
    private static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(15);

    private readonly List<ClusterProcesses> _clusters = [];

    public void Dispose()
    {
        foreach (var c in _clusters) c.Dispose();
    }

    /// <summary>The step, whether the transaction is committed when the coordinator dies there, and whether the
    /// coordinator leads the home range.</summary>
    public static TheoryData<TxnStep, bool, bool> PaxosCases
    {
        get
        {
            var data = new TheoryData<TxnStep, bool, bool>();
            foreach (bool leads in new[] { true, false })
            {
                foreach (var (step, committed) in Steps) data.Add(step, committed, leads);
            }
            return data;
        }
    }

    /// <summary>The step, and whether the transaction is committed when the coordinator dies there.</summary>
    public static TheoryData<TxnStep, bool> TwoPhaseCases
    {
        get
        {
            var data = new TheoryData<TxnStep, bool>();
            foreach (var (step, committed) in Steps) data.Add(step, committed);
            return data;
        }
    }

    private static IEnumerable<(TxnStep Step, bool Committed)> Steps =>
    [
        (TxnStep.BeforeStage, false),
        (TxnStep.BetweenStages, false),
        (TxnStep.AfterStagesBeforeDecision, false),
        (TxnStep.AfterDecisionBeforePublish, true),
        (TxnStep.DuringPublish, true),
    ];

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(PaxosCases))]
    public async Task PaxosCommit_CoordinatorProcessDies_IsAllOrNothing_AndTheKeysAreFreeWithin3s(TxnStep step, bool committed, bool coordinatorLeadsHomeRange)
    {
        var cluster = await StartClusterAsync(step);
        try
        {
            var txn = await ChooseCoordinatorAsync(cluster, coordinatorLeadsHomeRange);
            var (answer, sinceExit) = await CommitUntilTheCoordinatorDiesAsync(cluster, txn, step, CommitProtocol.Paxos);

            var values = new List<string?>();
            foreach (var key in Keys) values.Add(await GetAsync(cluster, txn.Survivors, key));
            var read = sinceExit.Elapsed;
            foreach (var key in Keys) await PutAsync(cluster, txn.Survivors, key, "after-" + key);
            var written = sinceExit.Elapsed;
            output.WriteLine($"after node {txn.Coordinator} died: read [{string.Join(", ", values)}] by {read.TotalMilliseconds:F0} ms, " +
                             $"both keys written by {written.TotalMilliseconds:F0} ms");

            AssertAllOrNothing(values, committed, answer);
            Assert.True(written < UnblockBound,
                $"the keys were readable and writable only {written.TotalMilliseconds:F0} ms after the coordinator died at {step} (bound {UnblockBound.TotalMilliseconds} ms)");
            foreach (var key in Keys) Assert.Equal("after-" + key, await GetAsync(cluster, txn.Survivors, key));
            AssertSurvivorsRun(cluster, txn);
        }
        catch
        {
            output.WriteLine(Logs(cluster));
            throw;
        }
    }

    [Theory(Timeout = 90_000)]
    [MemberData(nameof(TwoPhaseCases))]
    public async Task TwoPhaseCommit_CoordinatorProcessDies_BlocksPreparedKeys_UntilItRestarts(TxnStep step, bool committed)
    {
        var cluster = await StartClusterAsync(step);
        try
        {
            var txn = await ChooseCoordinatorAsync(cluster, leadsHomeRange: true);
            var (answer, sinceExit) = await CommitUntilTheCoordinatorDiesAsync(cluster, txn, step, CommitProtocol.TwoPhase);
            var prepared = PreparedKeys(step);
            if (prepared.Count == 0)
            {
                // Nothing was prepared: the keys are free at once (after an election), with their old values.
                var values = new List<string?>();
                foreach (var key in Keys) values.Add(await GetAsync(cluster, txn.Survivors, key));
                foreach (var key in Keys) await PutAsync(cluster, txn.Survivors, key, "after-" + key);
                var written = sinceExit.Elapsed;
                output.WriteLine($"after node {txn.Coordinator} died: read [{string.Join(", ", values)}], both keys written by {written.TotalMilliseconds:F0} ms");
                AssertAllOrNothing(values, committed, answer);
                Assert.True(written < UnblockBound, $"nothing was prepared, yet the keys were free only {written.TotalMilliseconds:F0} ms after the coordinator died");
                AssertSurvivorsRun(cluster, txn);
                return;
            }

            // The ranges of the prepared keys serve (a neighbour of each is written through the survivors)...
            foreach (var key in prepared) await PutAsync(cluster, txn.Survivors, Neighbour(key), "free");
            output.WriteLine($"neighbours of the prepared keys written {sinceExit.ElapsedMilliseconds} ms after node {txn.Coordinator} died");
            // ...but the prepared keys themselves wait for the dead coordinator; the others answer as they must.
            var window = Stopwatch.StartNew();
            var outcomes = await Task.WhenAll(Keys.Select(key => GetWithinAsync(cluster, txn.Survivors, key, BlockedWait)));
            output.WriteLine($"within {BlockedWait.TotalSeconds:F0} s: {string.Join(", ", Keys.Zip(outcomes, (k, o) => $"{k}: {o}"))} ({window.ElapsedMilliseconds} ms)");
            for (int i = 0; i < Keys.Length; i++)
            {
                if (prepared.Contains(Keys[i]))
                {
                    Assert.True(outcomes[i].Status == StatusCode.DeadlineExceeded,
                        $"two-phase commit, coordinator dead at {step}: prepared key {Keys[i]} answered {outcomes[i]} instead of blocking");
                }
                else
                {
                    // Not prepared yet (BetweenStages: old) or already published (DuringPublish: new).
                    Assert.Equal(StatusCode.OK, outcomes[i].Status);
                    Assert.Equal((committed ? "new-" : "old-") + Keys[i], outcomes[i].Value);
                }
            }

            // The coordinator comes back without the crash flag: its decision (or presumed abort) frees the keys.
            var restart = Stopwatch.StartNew();
            await cluster.RestartAsync(txn.Coordinator, StartTimeout, []);
            var after = new List<string?>();
            foreach (var key in Keys) after.Add(await GetAsync(cluster, ClusterProcesses.NodeIds, key));
            foreach (var key in Keys) await PutAsync(cluster, ClusterProcesses.NodeIds, key, "after-" + key);
            output.WriteLine($"node {txn.Coordinator} restarted: read [{string.Join(", ", after)}], both keys written {restart.ElapsedMilliseconds} ms after the restart began");
            AssertAllOrNothing(after, committed, answer);
            foreach (var key in Keys) Assert.Equal("after-" + key, await GetAsync(cluster, ClusterProcesses.NodeIds, key));
            AssertSurvivorsRun(cluster, txn);
        }
        catch
        {
            output.WriteLine(Logs(cluster));
            throw;
        }
    }

    /// <summary>Where the transaction is committed, and the nodes that stay.</summary>
    private sealed record Placement(int Coordinator, IReadOnlyList<int> Survivors);

    /// <summary>The keys whose ranges are prepared (and not yet published) when a 2PC coordinator dies at the step.</summary>
    private static IReadOnlyList<string> PreparedKeys(TxnStep step) => step switch
    {
        TxnStep.BeforeStage => [],
        TxnStep.BetweenStages => ["c"],
        TxnStep.AfterStagesBeforeDecision or TxnStep.AfterDecisionBeforePublish => ["c", "x"],
        TxnStep.DuringPublish => ["x"],
        _ => throw new ArgumentOutOfRangeException(nameof(step)),
    };

    /// <summary>Another key in the same range.</summary>
    private static string Neighbour(string key) => string.CompareOrdinal(key, SplitKey) < 0 ? "a" : "y";

    /// <summary>
    /// Both keys carry the old values or both the new ones, as the step decides; and the commit's answer, when the
    /// client got one before the process died, agrees.
    /// </summary>
    private static void AssertAllOrNothing(IReadOnlyList<string?> values, bool committed, StatusCode answer)
    {
        Assert.Equal(Keys.Select(k => (committed ? "new-" : "old-") + k), values);
        if (answer == StatusCode.OK) Assert.True(committed, "the client was told committed, but the writes are gone");
        if (answer == StatusCode.Aborted) Assert.False(committed, "the client was told aborted, but the writes are there");
    }

    /// <summary>The crash flag is on every node: none but the coordinator may have reached a crash point.</summary>
    private static void AssertSurvivorsRun(ClusterProcesses cluster, Placement txn)
    {
        foreach (int id in txn.Survivors) Assert.False(cluster.Node(id).HasExited, $"node {id} exited too:\n{cluster.Node(id).LogTail(40)}");
    }

    private async Task<ClusterProcesses> StartClusterAsync(TxnStep step)
    {
        IReadOnlyList<string> crash = ["--txn-crash-at", step.ToString()];
        var cluster = await ClusterProcesses.StartAsync(StartTimeout, nodeFlags: ClusterProcesses.NodeIds.ToDictionary(id => id, _ => crash));
        _clusters.Add(cluster);
        output.WriteLine($"nodes: {string.Join(", ", ClusterProcesses.NodeIds.Select(id => $"{id}={cluster.Endpoint(id)} (pid {cluster.Node(id).Pid})"))}; crash at {step}");
        try
        {
            await SplitAsync(cluster);
        }
        catch
        {
            output.WriteLine(Logs(cluster));
            throw;
        }
        return cluster;
    }

    /// <summary>Splits at <see cref="SplitKey"/> and waits until every node routes by the two ranges.</summary>
    private static async Task SplitAsync(ClusterProcesses cluster)
    {
        var deadline = DateTime.UtcNow + RetryFor;
        var split = new SplitRangeRequest { SplitKey = ByteString.CopyFromUtf8(SplitKey) };
        while (true)
        {
            try
            {
                await cluster.Admin(1).SplitRangeAsync(split, deadline: DateTime.UtcNow.AddSeconds(5));
                break;
            }
            catch (RpcException e) when (IsRetryable(e) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
        foreach (int id in ClusterProcesses.NodeIds)
        {
            while (true)
            {
                var ranges = (await cluster.Admin(id).ListRangesAsync(new ListRangesRequest(), deadline: DateTime.UtcNow.AddSeconds(5))).Ranges;
                if (ranges.Any(r => r.StartKey.ToStringUtf8() == SplitKey)) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"node {id} does not list a range starting at '{SplitKey}'");
                await Task.Delay(20);
            }
        }
    }

    /// <summary>
    /// Writes the old values (which also wakes both ranges), then picks the coordinator: the leader of the home
    /// range, or a node that leads neither range (there is always one: three nodes, two ranges).
    /// </summary>
    private async Task<Placement> ChooseCoordinatorAsync(ClusterProcesses cluster, bool leadsHomeRange)
    {
        foreach (var key in Keys) await PutAsync(cluster, ClusterProcesses.NodeIds, key, "old-" + key);
        var leaders = await RangeLeadersAsync(cluster);
        int coordinator = leadsHomeRange
            ? leaders[""]
            : ClusterProcesses.NodeIds.First(id => !leaders.ContainsValue(id));
        output.WriteLine($"range leaders {Describe(leaders)}: node {coordinator} coordinates");
        return new Placement(coordinator, ClusterProcesses.NodeIds.Where(id => id != coordinator).ToList());
    }

    /// <summary>
    /// Reads both keys in a transaction and commits new values at the coordinator, whose process must then die at
    /// its step. Returns the commit's answer (OK, ABORTED, or whatever the dying connection gave) and a clock
    /// started when the exit was observed.
    /// </summary>
    private async Task<(StatusCode Answer, Stopwatch SinceExit)> CommitUntilTheCoordinatorDiesAsync(ClusterProcesses cluster, Placement txn, TxnStep step,
        CommitProtocol protocol)
    {
        var begin = await cluster.Transactions(txn.Survivors[0]).BeginAsync(new BeginTransactionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        var commit = new CommitTransactionRequest
        {
            TxnId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
            ReadTimestamp = begin.ReadTimestamp,
            Protocol = protocol,
        };
        foreach (var key in Keys)
        {
            var read = await TxnReadAsync(cluster, key, begin.ReadTimestamp);
            Assert.Equal("old-" + key, read.Found ? read.Value.ToStringUtf8() : null);
            commit.Reads.Add(new TxnReadDependency { Key = ByteString.CopyFromUtf8(key), Version = read.Version });
            commit.Writes.Add(new TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("new-" + key) });
        }

        output.WriteLine($"range leaders before the commit: {Describe(await RangeLeadersAsync(cluster))}");
        var node = cluster.Node(txn.Coordinator);
        var call = cluster.Transactions(txn.Coordinator).CommitAsync(commit, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
        var sent = Stopwatch.StartNew();
        try
        {
            await node.WaitForExitAsync(CrashTimeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"node {txn.Coordinator} (pid {node.Pid}) did not die at {step} within {CrashTimeout.TotalSeconds:F0} s of the commit " +
                        $"(commit {(call.IsCompleted ? call.Status.ToString() : "pending")})");
        }
        var sinceExit = Stopwatch.StartNew();
        output.WriteLine($"node {txn.Coordinator} exited (code {node.ExitCode}) {sent.ElapsedMilliseconds} ms after the commit was sent");
        Assert.Contains($"TxnCrashAt: killing the node at {step}", node.LogTail(400), StringComparison.Ordinal);

        StatusCode answer;
        try
        {
            await call.WaitAsync(TimeSpan.FromSeconds(10));
            answer = StatusCode.OK;
        }
        catch (RpcException e)
        {
            answer = e.StatusCode;
        }
        output.WriteLine($"the commit's answer: {answer}");
        return (answer, sinceExit);
    }

    /// <summary>The node that leads each user range (by start key), once every one has exactly one leader.</summary>
    private static async Task<Dictionary<string, int>> RangeLeadersAsync(ClusterProcesses cluster)
    {
        var deadline = DateTime.UtcNow + RetryFor;
        while (true)
        {
            var claims = new List<(string Start, int Node)>();
            foreach (int id in ClusterProcesses.NodeIds.Where(id => !cluster.Node(id).HasExited))
            {
                var status = await cluster.Admin(id).NodeStatusAsync(new NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                claims.AddRange(status.Replicas.Where(r => r.Range.RangeId >= Kv.Server.Ranges.RangeIds.FirstUser && r.IsLeader)
                    .Select(r => (r.Range.StartKey.ToStringUtf8(), id)));
            }
            var byRange = claims.GroupBy(c => c.Start).ToList();
            if (byRange.Count == 2 && byRange.All(g => g.Count() == 1)) return byRange.ToDictionary(g => g.Key, g => g.Single().Node);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no single leader per range: {string.Join(", ", claims)}");
            await Task.Delay(50);
        }
    }

    private static string Describe(Dictionary<string, int> leaders) =>
        string.Join(", ", leaders.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"[{l.Key},…) node {l.Value}"));

    /// <summary>A transactional read at the leader of the key's range (tried on every node in turn).</summary>
    private static async Task<TxnReadResponse> TxnReadAsync(ClusterProcesses cluster, string key, Timestamp readTimestamp)
    {
        var request = new TxnReadRequest { Key = ByteString.CopyFromUtf8(key), ReadTimestamp = readTimestamp };
        return await OnAnyAsync(ClusterProcesses.NodeIds, id => cluster.Transactions(id).ReadAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
    }

    /// <summary>A plain linearizable Get through <paramref name="nodes"/> (whichever leads the range), retried for a while.</summary>
    private static async Task<string?> GetAsync(ClusterProcesses cluster, IReadOnlyList<int> nodes, string key)
    {
        var request = new GetRequest { Key = ByteString.CopyFromUtf8(key) };
        var response = await OnAnyAsync(nodes, id => cluster.Client(id).GetAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
        return response.Found ? response.Value.ToStringUtf8() : null;
    }

    private static Task PutAsync(ClusterProcesses cluster, IReadOnlyList<int> nodes, string key, string value)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };
        return OnAnyAsync(nodes, id => cluster.Client(id).PutAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync);
    }

    /// <summary>Tries the nodes in turn (a non-leader answers FAILED_PRECONDITION) until one serves the call.</summary>
    private static async Task<T> OnAnyAsync<T>(IReadOnlyList<int> nodes, Func<int, Task<T>> call)
    {
        var deadline = DateTime.UtcNow + RetryFor;
        while (true)
        {
            foreach (int id in nodes)
            {
                try
                {
                    return await call(id);
                }
                catch (RpcException e) when (IsRetryable(e) && DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(20);
        }
    }

    /// <summary>How a Get of <paramref name="key"/> through <paramref name="nodes"/> ends within <paramref name="within"/>.</summary>
    private static async Task<GetOutcome> GetWithinAsync(ClusterProcesses cluster, IReadOnlyList<int> nodes, string key, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var request = new GetRequest { Key = ByteString.CopyFromUtf8(key) };
        try
        {
            while (true)
            {
                foreach (int id in nodes)
                {
                    try
                    {
                        var response = await cluster.Client(id).GetAsync(request, deadline: deadline);
                        return new GetOutcome(StatusCode.OK, response.Found ? response.Value.ToStringUtf8() : null, id);
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable && DateTime.UtcNow < deadline)
                    {
                    }
                }
                await Task.Delay(20);
            }
        }
        catch (RpcException e)
        {
            return new GetOutcome(e.StatusCode, null, null);
        }
    }

    private static bool IsRetryable(RpcException e) =>
        e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    /// <summary>Every node's recent output, without the stack trace a FailFast prints.</summary>
    private static string Logs(ClusterProcesses cluster) =>
        string.Join('\n', cluster.Logs(linesPerNode: 250).Split('\n').Where(l => !l.Contains("stderr:    at ", StringComparison.Ordinal)));

    private sealed record GetOutcome(StatusCode Status, string? Value, int? Node)
    {
        public override string ToString() => Status == StatusCode.OK ? $"'{Value}' (node {Node})" : Status.ToString();
    }
}
