using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kv.Client;
using Kv.Server.Tests.Node;
using Kv.Server.Tests.Telemetry;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Txn;

/// <summary>
/// Paxos commit staged by the client (docs/transactions.md §3, "Staged by the client"), through the raw Stage and
/// Finish calls on a 3-node cluster split at "m": "c" (the home key) is in one range, "x" in the other. The client
/// "dies" by sending nothing more: the outcome is all-or-nothing, decided by whether every part was staged, and the
/// keys are readable and writable again within 3 s without it.
/// </summary>
public sealed class ClientStagedCommitTests
{
    private static readonly string[] Keys = ["c", "x"];

    [Fact(Timeout = 90_000)]
    public async Task EveryPartStaged_IsCommitted_AndFinishPublishesAtTheCommitTimestamp()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var (txn, commitTs) = await BeginWritingAsync(cluster);
        foreach (var part in Parts(txn, commitTs)) Assert.True((await StageAsync(cluster, part)).Staged);

        var finished = await FinishAsync(cluster, txn, commitTs, Wire.TxnFinishRequest.Types.Outcome.FinishStaged);
        Assert.Equal(commitTs, finished.CommitTimestamp);
        foreach (var key in Keys)
        {
            var read = await cluster.GetAsync(key);
            Assert.Equal("new-" + key, read.Value.ToStringUtf8());
            Assert.Equal(commitTs, read.Version);
        }
    }

    public static TheoryData<string, bool> ClientDeaths => new()
    {
        { "after the home part only", false },
        { "after the other part only", false },
        { "after every part, before Finish", true },
    };

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(ClientDeaths))]
    public async Task ClientDies_IsAllOrNothing_AndUnblocksWithin3s(string when, bool committed)
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var (txn, commitTs) = await BeginWritingAsync(cluster);
        var parts = Parts(txn, commitTs);
        var sent = when switch
        {
            "after the home part only" => parts.Where(p => p.ManifestKeys.Count > 0),
            "after the other part only" => parts.Where(p => p.ManifestKeys.Count == 0),
            _ => parts,
        };
        foreach (var part in sent) Assert.True((await StageAsync(cluster, part)).Staged);

        // Nothing more from the client.
        var clock = Stopwatch.StartNew();
        foreach (var key in Keys)
        {
            var read = await cluster.GetAsync(key);
            Assert.Equal(committed ? "new-" + key : "old-" + key, read.Value.ToStringUtf8());
        }
        foreach (var key in Keys) await cluster.PutAsync(key, "after-" + key);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the keys were blocked for {clock.Elapsed} after the client died {when}");
    }

    [Fact(Timeout = 90_000)]
    public async Task RefusedPart_AbortsThroughFinish_AndWritesNothing()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var (txn, commitTs) = await BeginWritingAsync(cluster);
        await cluster.PutAsync("x", "meanwhile"); // the transaction read x: its part there must be refused
        var parts = Parts(txn, commitTs);
        var answers = await Task.WhenAll(parts.Select(p => StageAsync(cluster, p)));
        var refused = Assert.Single(answers, a => !a.Staged);
        Assert.Equal("x", refused.Conflict.Key.ToStringUtf8());

        var e = await Assert.ThrowsAsync<RpcException>(() => FinishAsync(cluster, txn, commitTs, Wire.TxnFinishRequest.Types.Outcome.FinishRefused, refused.Conflict));
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
        Assert.Equal("x", e.GetRpcStatus()?.GetDetail<Wire.TxnConflict>()?.Key.ToStringUtf8());
        Assert.Equal("old-c", (await cluster.GetAsync("c")).Value.ToStringUtf8());
        Assert.Equal("meanwhile", (await cluster.GetAsync("x")).Value.ToStringUtf8());
        // No lock left behind: a plain write of the staged key goes through at once.
        var clock = Stopwatch.StartNew();
        await cluster.PutAsync("c", "free");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"c stayed locked for {clock.Elapsed}");
    }

    [Fact(Timeout = 90_000)]
    public async Task LostAnswer_IsSettledAsARecoveryWould()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var (txn, commitTs) = await BeginWritingAsync(cluster);
        // Every part was staged, but the client did not hear one answer: settling finds the transaction committed.
        foreach (var part in Parts(txn, commitTs)) Assert.True((await StageAsync(cluster, part)).Staged);
        var settled = await FinishAsync(cluster, txn, commitTs, Wire.TxnFinishRequest.Types.Outcome.FinishUnknown);
        Assert.Equal(commitTs, settled.CommitTimestamp);
        foreach (var key in Keys) Assert.Equal("new-" + key, (await cluster.GetAsync(key)).Value.ToStringUtf8());

        // Only the home part was staged and an answer was lost: settling stops the other part and aborts.
        var (second, secondTs) = await BeginWritingAsync(cluster, prefix: "second-");
        Assert.True((await StageAsync(cluster, Parts(second, secondTs).Single(p => p.ManifestKeys.Count > 0))).Staged);
        var e = await Assert.ThrowsAsync<RpcException>(() => FinishAsync(cluster, second, secondTs, Wire.TxnFinishRequest.Types.Outcome.FinishUnknown));
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
        // A late copy of the other part cannot lock any more.
        Assert.False((await StageAsync(cluster, Parts(second, secondTs).Single(p => p.ManifestKeys.Count == 0))).Staged);
        foreach (var key in Keys) Assert.Equal("new-" + key, (await cluster.GetAsync(key)).Value.ToStringUtf8());
    }

    [Fact(Timeout = 90_000)]
    public async Task MalformedParts_AreRefusedWithTheField_BeforeAnythingIsStaged()
    {
        await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
        var (txn, commitTs) = await BeginWritingAsync(cluster);
        var home = Parts(txn, commitTs).Single(p => p.ManifestKeys.Count > 0);
        var other = Parts(txn, commitTs).Single(p => p.ManifestKeys.Count == 0);

        async Task<string> RefusedAsync(Wire.TxnStageRequest part)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => StageAsync(cluster, part));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            return e.Status.Detail;
        }
        var noManifest = home.Clone();
        noManifest.ManifestKeys.Clear();
        Assert.Contains("manifest_keys", await RefusedAsync(noManifest));
        var missingKey = home.Clone();
        missingKey.ManifestKeys.Remove(ByteString.CopyFromUtf8("c"));
        Assert.Contains("manifest_keys", await RefusedAsync(missingKey));
        var manifestElsewhere = other.Clone();
        manifestElsewhere.ManifestKeys.Add(ByteString.CopyFromUtf8("x"));
        Assert.Contains("manifest_keys", await RefusedAsync(manifestElsewhere));
        var early = home.Clone();
        early.CommitTimestamp = txn.ReadTimestamp;
        Assert.Contains("commit_timestamp", await RefusedAsync(early));
        var twoPhase = home.Clone();
        twoPhase.Part.Protocol = Wire.CommitProtocol.TwoPhase;
        Assert.Contains("protocol", await RefusedAsync(twoPhase));
        var scanned = home.Clone();
        scanned.Part.SpanReads.Add(new Wire.TxnSpanRead { StartKey = ByteString.CopyFromUtf8("a"), EndKey = ByteString.CopyFromUtf8("b") });
        Assert.Contains("span_reads", await RefusedAsync(scanned));

        // Nothing was staged: the keys are free at once, and the well-formed parts still commit.
        foreach (var key in Keys) Assert.Equal("old-" + key, (await cluster.GetAsync(key)).Value.ToStringUtf8());
        Assert.True((await StageAsync(cluster, home)).Staged);
        Assert.True((await StageAsync(cluster, other)).Staged);
        await FinishAsync(cluster, txn, commitTs, Wire.TxnFinishRequest.Types.Outcome.FinishStaged);
        foreach (var key in Keys) Assert.Equal("new-" + key, (await cluster.GetAsync(key)).Value.ToStringUtf8());
    }

    /// <summary>The SDK stages a 2-range commit itself (the Stage calls show in the trace), and a 1-range one through Commit.</summary>
    [Collection(TracingCollection.Name)]
    public sealed class Sdk
    {
        [Fact(Timeout = 90_000)]
        public async Task TwoRangeTransaction_IsStagedByTheClient_OneRangeTransaction_IsCommittedByANode()
        {
            await using var cluster = await TransactionTests.SplitClusterAsync(["m"]);
            await using var client = new KvClient(Enumerable.Range(1, 3).Select(id => cluster.Endpoint(id).ToString()));
            await client.GetManyAsync(["c", "x"]); // loads the client's range map
            using var recorder = new SpanRecorder();

            await client.RunTransactionAsync(async tx =>
            {
                await tx.GetAsync("c");
                await tx.PutAsync("c", "sdk-c");
                await tx.PutAsync("x", "sdk-x");
            });
            var staged = await recorder.WaitAsync(s => s.Count(a => a.DisplayName.EndsWith("/Stage", StringComparison.Ordinal)) >= 2
                && s.Any(a => a.DisplayName.EndsWith("/Finish", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
            Assert.DoesNotContain(staged, a => a.DisplayName.EndsWith("/Commit", StringComparison.Ordinal));
            Assert.Equal("sdk-c", (await cluster.GetAsync("c")).Value.ToStringUtf8());
            Assert.Equal("sdk-x", (await cluster.GetAsync("x")).Value.ToStringUtf8());

            await client.RunTransactionAsync(async tx =>
            {
                await tx.PutAsync("a", "one-range");
                await tx.PutAsync("b", "one-range");
            });
            await recorder.WaitAsync(s => s.Any(a => a.DisplayName.EndsWith("/Commit", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
            Assert.Equal("one-range", (await cluster.GetAsync("b")).Value.ToStringUtf8());
        }
    }

    /// <summary>On a cluster whose default protocol is 2PC the SDK's staged parts are refused; it commits through Commit, and stops trying.</summary>
    [Collection(TracingCollection.Name)]
    public sealed class SdkOnATwoPhaseCluster
    {
        [Fact(Timeout = 90_000)]
        public async Task RefusedParts_AreAborted_TheCommitGoesThroughCommit_AndLaterOnesDoNotStage()
        {
            await using var cluster = await TransactionTests.SplitClusterAsync(["m"], configure: o => o with { TxnCommitProtocol = "two-phase" });
            await using var client = new KvClient(Enumerable.Range(1, 3).Select(id => cluster.Endpoint(id).ToString()));
            await client.GetManyAsync(["c", "x"]); // loads the client's range map
            using var recorder = new SpanRecorder();

            static Func<KvTransaction, Task> Body(string value) => async tx =>
            {
                await tx.PutAsync("c", value);
                await tx.PutAsync("x", value);
            };
            await client.RunTransactionAsync(Body("first"), new KvTransactionOptions { MaxAttempts = 1 });
            var first = await recorder.WaitAsync(s => s.Any(a => a.DisplayName.EndsWith("/Commit", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
            Assert.Contains(first, a => a.DisplayName.EndsWith("/Stage", StringComparison.Ordinal) && a.Status == ActivityStatusCode.Error);
            Assert.Contains(first, a => a.DisplayName.EndsWith("/Finish", StringComparison.Ordinal));
            Assert.Equal("first", (await cluster.GetAsync("c")).Value.ToStringUtf8());
            Assert.Equal("first", (await cluster.GetAsync("x")).Value.ToStringUtf8());

            int stagesBefore = recorder.Ended.Count(a => a.DisplayName.EndsWith("/Stage", StringComparison.Ordinal));
            await client.RunTransactionAsync(Body("second"), new KvTransactionOptions { MaxAttempts = 1 });
            await recorder.WaitAsync(s => s.Count(a => a.DisplayName.EndsWith("/Commit", StringComparison.Ordinal)) >= 2, TimeSpan.FromSeconds(10));
            Assert.Equal(stagesBefore, recorder.Ended.Count(a => a.DisplayName.EndsWith("/Stage", StringComparison.Ordinal)));
            Assert.Equal("second", (await cluster.GetAsync("x")).Value.ToStringUtf8());
        }
    }

    /// <summary>Writes the old values (the first time), then begins a transaction that reads both keys and writes new values; its commit timestamp is just above its read timestamp.</summary>
    private static async Task<(TxnDriver Txn, Wire.Timestamp CommitTs)> BeginWritingAsync(InProcessCluster cluster, string prefix = "")
    {
        if (prefix == "")
            foreach (var key in Keys) await cluster.PutAsync(key, "old-" + key);
        var txn = await TxnDriver.BeginAsync(cluster);
        foreach (var key in Keys)
        {
            await txn.GetAsync(key);
            txn.Put(key, prefix + "new-" + key);
        }
        return (txn, new Wire.Timestamp { WallNanos = txn.ReadTimestamp.WallNanos + 1_000 });
    }

    /// <summary>The two parts, as the SDK builds them: "c" (home, with the manifest naming both keys) and "x".</summary>
    private static List<Wire.TxnStageRequest> Parts(TxnDriver txn, Wire.Timestamp commitTs)
    {
        var whole = txn.CommitRequest(Wire.CommitProtocol.Paxos);
        var home = ByteString.CopyFromUtf8("c");
        Wire.TxnStageRequest Part(Func<ByteString, bool> inRange)
        {
            var part = new Wire.TxnStageRequest
            {
                Part = new Wire.CommitTransactionRequest
                {
                    TxnId = whole.TxnId, ReadTimestamp = whole.ReadTimestamp, Protocol = whole.Protocol, Isolation = whole.Isolation,
                },
                HomeKey = home,
                CommitTimestamp = commitTs,
            };
            part.Part.Writes.AddRange(whole.Writes.Where(w => inRange(w.Key)));
            part.Part.Reads.AddRange(whole.Reads.Where(r => inRange(r.Key)));
            return part;
        }
        var first = Part(k => k.Span.SequenceCompareTo("m"u8) < 0);
        first.ManifestKeys.AddRange(Keys.Select(ByteString.CopyFromUtf8));
        return [first, Part(k => k.Span.SequenceCompareTo("m"u8) >= 0)];
    }

    /// <summary>A part at the node leading its range (found by asking each node in turn; a follower forwards too).</summary>
    private static async Task<Wire.TxnStageResponse> StageAsync(InProcessCluster cluster, Wire.TxnStageRequest part)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (int id in Enumerable.Range(1, 3).Where(cluster.IsRunning))
            {
                try
                {
                    return await cluster.Txn(id).StageAsync(part, deadline: DateTime.UtcNow.AddSeconds(10));
                }
                catch (RpcException e) when (DateTime.UtcNow < deadline && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                }
            }
        }
    }

    private static async Task<Wire.CommitTransactionResponse> FinishAsync(InProcessCluster cluster, TxnDriver txn, Wire.Timestamp commitTs,
        Wire.TxnFinishRequest.Types.Outcome outcome, Wire.TxnConflict? conflict = null)
    {
        var finish = new Wire.TxnFinishRequest { TxnId = txn.TxnId, HomeKey = ByteString.CopyFromUtf8("c"), CommitTimestamp = commitTs, Outcome = outcome };
        finish.Keys.AddRange(Keys.Select(ByteString.CopyFromUtf8));
        if (conflict is not null) finish.Conflict = conflict;
        return await cluster.Txn(1).FinishAsync(finish, deadline: DateTime.UtcNow.AddSeconds(20));
    }
}
