using Google.Protobuf;
using Grpc.Core;
using Kv.Proto.V1;
using Xunit.Abstractions;

namespace Kv.Server.Tests.Process;

/// <summary>
/// Failover with three real server processes (`Kv.Server node`, one per node): the leader is SIGKILLed under a
/// concurrent write load; no acknowledged write may be lost and writes must resume quickly. Then the killed
/// node restarts on its data and must catch up well enough to be part of the quorum.
/// </summary>
public sealed class FailoverProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FailoverBound = TimeSpan.FromSeconds(3);
    private readonly List<ClusterProcesses> _clusters = [];

    public void Dispose()
    {
        foreach (var c in _clusters) c.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task KillLeader_UnderWriteLoad_NoAcknowledgedWriteIsLost_AndWritesResumeQuickly()
    {
        var cluster = await StartClusterAsync();
        await using var load = WriteLoad.Start(cluster, "kill-leader");
        try
        {
            int leader = await KillLeaderUnderLoadAsync(cluster, load);
            var survivors = ClusterProcesses.NodeIds.Where(id => id != leader).ToList();

            int before = load.AckCount;
            await Task.Delay(1_500);
            Assert.True(load.AckCount > before, $"no write was acknowledged in the 1.5 s after failover\n{cluster.Logs()}");
            await load.StopAsync();
            output.WriteLine($"failed attempts: {load.ErrorSummary}");

            await VerifyAllAcknowledgedAsync(cluster, load.Acks, survivors);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task KilledNode_Restarts_CatchesUp_AndServesAgain()
    {
        // Logs compacted every 20 entries: the restarted node is behind the log and must catch up with a range
        // snapshot, its data copied from a peer over the network.
        var cluster = await StartClusterAsync(["--log-compaction-entries", "5"]);
        await using var load = WriteLoad.Start(cluster, "restart");
        try
        {
            int killed = await KillLeaderUnderLoadAsync(cluster, load);
            // What the killed node can have known: a leader's chosen prefix runs ahead of its followers' by at most its
            // window of in-flight slots, and the survivors, read after the kill, are at least where they were then.
            long survivorsAtKill = 0;
            foreach (int id in ClusterProcesses.NodeIds.Where(n => n != killed))
                survivorsAtKill = Math.Max(survivorsAtKill, (await RangeStatusAsync(cluster, id)).ChosenPrefix);
            long killedKnewAtMost = survivorsAtKill + new Kv.Paxos.ReplicaOptions { ReplicaId = 1 }.InflightSlotsMax;
            // Enough writes while it is down that the survivors' logs, compacted every 5 entries, no longer reach
            // back to where it stopped.
            Assert.True(await load.WaitForAcksAsync(load.AckCount + 300, TimeSpan.FromSeconds(30)), $"writes stalled\n{cluster.Logs()}");

            // The killed node comes back on its data directory and port while the load goes on.
            var restartedAt = load.Now;
            // The survivors' logs, compacted every 5 entries, start above every slot the killed node knows: only a
            // snapshot (the range's state, and its data copied from a peer) can bring it back.
            long logStart = long.MaxValue;
            foreach (int id in ClusterProcesses.NodeIds.Where(n => n != killed))
            {
                var r = await RangeStatusAsync(cluster, id);
                logStart = Math.Min(logStart, r.ChosenPrefix - r.LogEntries);
                output.WriteLine($"before restart, node {id}: chosen {r.ChosenPrefix}, {r.LogEntries} log entries");
            }
            await cluster.RestartAsync(killed, StartTimeout);
            output.WriteLine($"node {killed} restarted (serving {(load.Now - restartedAt).TotalMilliseconds:F0} ms after the restart began)");
            var restarted = await RangeStatusAsync(cluster, killed);
            output.WriteLine($"restarted node {killed}: chosen {restarted.ChosenPrefix}, applied {restarted.AppliedUpTo}");
            // The restarted node may already have caught up by the first look (the load goes on while it starts), so
            // the proof is that the survivors' logs start above anything it can have known when it was killed.
            Assert.True(killedKnewAtMost < logStart, $"node {killed} may know slot {killedKnewAtMost}, inside the survivors' logs (from {logStart})");
            int before = load.AckCount;
            var caughtUp = System.Diagnostics.Stopwatch.StartNew();
            while ((await RangeStatusAsync(cluster, killed)).AppliedUpTo < logStart + 5 && caughtUp.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(50);
            Assert.True((await RangeStatusAsync(cluster, killed)).AppliedUpTo >= logStart + 5, $"node {killed} did not catch up\n{cluster.Logs()}");
            output.WriteLine($"node {killed} caught up by snapshot {caughtUp.ElapsedMilliseconds} ms after serving");
            await Task.Delay(1_000);
            Assert.True(load.AckCount > before, $"no write acknowledged after node {killed} restarted\n{cluster.Logs()}");

            // Stop another node (the leader, unless that is the restarted one): the restarted node must now be in
            // every quorum, so writes only succeed if it took part in the log again.
            int current = load.LastLeader;
            int stopped = current != killed ? current : ClusterProcesses.NodeIds.First(id => id != killed);
            var remaining = ClusterProcesses.NodeIds.Where(id => id != stopped).ToList();
            var stopAt = load.Now;
            int exitCode = await cluster.StopAsync(stopped, TimeSpan.FromSeconds(30));
            output.WriteLine($"SIGTERM to node {stopped} (leader {current}); exited with code {exitCode} after {(load.Now - stopAt).TotalMilliseconds:F0} ms; remaining quorum: {string.Join(",", remaining)}");
            var next = await load.WaitForAckAsync(stopAt, stopped, TimeSpan.FromSeconds(15));
            Assert.True(next is not null, $"no write acknowledged by nodes {string.Join(",", remaining)} within 15 s of stopping node {stopped}\n{cluster.Logs()}");
            output.WriteLine($"writes resumed {(next!.Acked - stopAt).TotalMilliseconds:F0} ms after stopping node {stopped} (acknowledged by node {next.NodeId})");

            before = load.AckCount;
            await Task.Delay(1_500);
            Assert.True(load.AckCount > before, $"no write acknowledged with node {stopped} stopped\n{cluster.Logs()}");
            await load.StopAsync();
            output.WriteLine($"failed attempts: {load.ErrorSummary}");
            var lastAck = load.Acks.MaxBy(a => a.Acked)!;
            output.WriteLine($"leader at the end: node {lastAck.NodeId}; restarted node: {killed}");

            await VerifyAllAcknowledgedAsync(cluster, load.Acks, remaining);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    /// <summary>
    /// A SIGTERMed leader hands its ranges to another voter before it stops (KvNode.DisposeAsync), so writes resume
    /// within moments instead of after the clients' deadlines (10 s here) or an election timeout.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task SigtermLeader_UnderWriteLoad_WritesResumeQuickly()
    {
        var cluster = await StartClusterAsync();
        // Clients with a patient deadline (10 s): how long a write stalls must not depend on it.
        await using var load = WriteLoad.Start(cluster, "sigterm-leader", callTimeout: TimeSpan.FromSeconds(10));
        try
        {
            Assert.True(await load.WaitForAcksAsync(200, TimeSpan.FromSeconds(30)), $"fewer than 200 writes acknowledged in 30 s\n{cluster.Logs()}");
            int leader = load.LastLeader;
            var stopAt = load.Now;
            var stopping = cluster.StopAsync(leader, TimeSpan.FromSeconds(60));
            var next = await load.WaitForAckAsync(stopAt, leader, TimeSpan.FromSeconds(30));
            int exitCode = await stopping;
            output.WriteLine($"SIGTERM to leader node {leader}: exited with code {exitCode}; failed attempts: {load.ErrorSummary}");
            Assert.True(next is not null, $"no write acknowledged within 30 s of stopping the leader\n{cluster.Logs()}");
            var resumed = next!.Acked - stopAt;
            output.WriteLine($"writes resumed {resumed.TotalMilliseconds:F0} ms after SIGTERM to the leader (by node {next.NodeId})");
            Assert.True(resumed < FailoverBound, $"writes resumed only {resumed.TotalMilliseconds:F0} ms after SIGTERM to the leader\n{cluster.Logs()}");
            await load.StopAsync();
            await VerifyAllAcknowledgedAsync(cluster, load.Acks, ClusterProcesses.NodeIds.Where(id => id != leader).ToList());
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static async Task<Kv.Proto.V1.ReplicaStatus> RangeStatusAsync(ClusterProcesses cluster, int id)
    {
        var status = await cluster.Admin(id).NodeStatusAsync(new Kv.Proto.V1.NodeStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
        return status.Replicas.Single(r => r.Range.RangeId == Kv.Server.Ranges.RangeIds.FirstUser);
    }

    private async Task<ClusterProcesses> StartClusterAsync(IReadOnlyList<string>? extraFlags = null)
    {
        var cluster = await ClusterProcesses.StartAsync(StartTimeout, extraFlags);
        _clusters.Add(cluster);
        output.WriteLine($"nodes: {string.Join(", ", ClusterProcesses.NodeIds.Select(id => $"{id}={cluster.Endpoint(id)} (pid {cluster.Node(id).Pid})"))}");
        return cluster;
    }

    /// <summary>Lets the load run, SIGKILLs the node that is acknowledging writes, and asserts that another node
    /// acknowledges a write within <see cref="FailoverBound"/>. Returns the killed node.</summary>
    private async Task<int> KillLeaderUnderLoadAsync(ClusterProcesses cluster, WriteLoad load)
    {
        Assert.True(await load.WaitForAcksAsync(1, TimeSpan.FromSeconds(30)), $"the cluster acknowledged no write within 30 s\n{cluster.Logs()}");
        var firstAck = load.Now;
        Assert.True(await load.WaitForAcksAsync(200, TimeSpan.FromSeconds(20)), $"fewer than 200 writes acknowledged in 20 s\n{cluster.Logs()}");
        await Task.Delay(500);

        int leader = load.LastLeader;
        var recent = load.Acks.Where(a => a.Acked > load.Now - TimeSpan.FromMilliseconds(200)).ToList();
        Assert.All(recent, a => Assert.Equal(leader, a.NodeId));
        int ackedBeforeKill = load.AckCount;

        var killAt = load.Now;
        await cluster.KillAsync(leader);
        output.WriteLine($"SIGKILL leader node {leader} after {ackedBeforeKill} acknowledged writes ({(killAt - firstAck).TotalSeconds:F1} s of load)");

        var next = await load.WaitForAckAsync(killAt, leader, TimeSpan.FromSeconds(15));
        Assert.True(next is not null, $"no write acknowledged within 15 s of killing the leader\n{cluster.Logs()}");
        var failover = next!.Acked - killAt;
        output.WriteLine($"failover: next write acknowledged {failover.TotalMilliseconds:F0} ms after the kill, by node {next.NodeId}");
        Assert.True(failover < FailoverBound, $"writes resumed only {failover.TotalMilliseconds:F0} ms after the kill (bound {FailoverBound.TotalMilliseconds} ms)\n{cluster.Logs()}");
        return leader;
    }

    /// <summary>Reads every acknowledged key through the given (live) nodes and checks its value.</summary>
    private async Task VerifyAllAcknowledgedAsync(ClusterProcesses cluster, IReadOnlyList<WriteLoad.Ack> acks, IReadOnlyList<int> nodes)
    {
        Assert.Equal(acks.Count, acks.Select(a => a.Key).Distinct(StringComparer.Ordinal).Count());
        var servedBy = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(acks, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (ack, ct) =>
        {
            var (node, response) = await GetAsync(cluster, nodes, ack.Key, TimeSpan.FromSeconds(20));
            servedBy.AddOrUpdate(node, 1, (_, n) => n + 1);
            if (!response.Found)
                wrong.Enqueue($"{ack.Key}: missing (acknowledged by node {ack.NodeId} at {ack.Acked.TotalMilliseconds:F0} ms)");
            else if (response.Value.ToStringUtf8() != ack.Value)
                wrong.Enqueue($"{ack.Key}: '{response.Value.ToStringUtf8()}' instead of '{ack.Value}'");
        });
        var byNode = acks.GroupBy(a => a.NodeId).OrderBy(g => g.Key).Select(g => $"node {g.Key}: {g.Count()}");
        output.WriteLine($"verified {acks.Count - wrong.Count}/{acks.Count} acknowledged writes (acknowledged by {string.Join(", ", byNode)}; " +
                         $"read from {string.Join(", ", servedBy.OrderBy(s => s.Key).Select(s => $"node {s.Key}: {s.Value}"))})");
        Assert.True(wrong.IsEmpty, $"{wrong.Count} of {acks.Count} acknowledged writes lost or wrong, e.g.:\n{string.Join('\n', wrong.Take(20))}");
    }

    /// <summary>A linearizable Get through whichever of <paramref name="nodes"/> serves it (the leader).</summary>
    private static async Task<(int Node, GetResponse Response)> GetAsync(ClusterProcesses cluster, IReadOnlyList<int> nodes, string key, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var request = new GetRequest { Key = ByteString.CopyFromUtf8(key) };
        while (true)
        {
            foreach (int id in nodes)
            {
                try
                {
                    return (id, await cluster.Client(id).GetAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)));
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(20);
        }
    }
}
