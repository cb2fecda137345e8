using System.Globalization;
using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Txn.Checker;
using Kv.Txn.Coordination;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using StorageTimestamp = Kv.Storage.Encoding.Timestamp;

namespace Kv.Txn.Tests;

/// <summary>
/// The coordinator against three ranges that delay, duplicate and lose answers, while a recoverer finishes
/// transactions at random moments — racing live coordinators, as a reader that thinks a coordinator is gone would.
/// Every transaction appends its id to the lists of the keys it writes: at the end each id is in all of its keys or
/// none, exactly when the coordinator said committed (either, when it could not say), never twice; and the history
/// passes the list-append checker.
/// </summary>
public sealed class CommitProtocolFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Keys = ["a", "b", "k", "l", "t", "u"];

    [Theory(Timeout = 120_000)]
    [InlineData(CommitProtocol.Paxos, false)]
    [InlineData(CommitProtocol.TwoPhase, false)]
    [InlineData(CommitProtocol.Paxos, true)]
    public async Task RacingRecoveries_AndFaults_KeepEveryTransactionAllOrNothing(CommitProtocol protocol, bool stagedByClient)
    {
        int committed = 0, aborted = 0, unknown = 0;
        for (int seed = 1; seed <= 12; seed++)
        {
            var (c, a, u) = await RunSeedAsync(seed, protocol, stagedByClient);
            committed += c;
            aborted += a;
            unknown += u;
        }
        output.WriteLine($"{protocol}{(stagedByClient ? " staged by the client" : "")}: committed {committed}, aborted {aborted}, unknown {unknown}");
        Assert.True(committed > 50, "too few commits to mean anything");
        Assert.True(aborted > 0, "no conflicts: the races did not bite");
    }

    private async Task<(int, int, int)> RunSeedAsync(int seed, CommitProtocol protocol, bool stagedByClient)
    {
        using var ranges = new InMemoryRanges(seed, faultRate: Environment.GetEnvironmentVariable("FUZZ_NO_FAULTS") is null ? 0.08 : 0);
        TxnCoordinator? coordinator = null;
        var decisions = new InMemoryDecisions(() => coordinator!);
        coordinator = new TxnCoordinator(1, ranges, ranges, decisions, decisions,
            new TxnCoordinatorOptions { DefaultProtocol = protocol, RecoverAfter = TimeSpan.Zero }, NullLogger.Instance);
        var recorder = new HistoryRecorder();
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<long, (string Outcome, string[] Keys)>();
        using var stop = new CancellationTokenSource();

        var recoverer = Task.Run(async () =>
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(random.Next(0, 3));
                if (Environment.GetEnvironmentVariable("FUZZ_NO_RECOVERY") is null)
                    foreach (var key in Keys.OrderBy(_ => random.Next()).Take(2))
                        await TryRecoverAsync(coordinator, ranges, key);
            }
        });
        var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            var random = new Random(seed * 10 + client);
            for (int i = 0; i < 12; i++)
            {
                var keys = Keys.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
                var record = recorder.Begin();
                var request = new CommitTransactionRequest
                {
                    TxnId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()),
                    ReadTimestamp = TxnWire.ToWire(await ranges.NowAboveAsync(StorageTimestamp.Zero, default)),
                };
                var readAt = TxnWire.ToStorage(request.ReadTimestamp);
                foreach (var key in keys)
                {
                    var (list, version) = ranges.ReadAt(key, readAt);
                    record.Read(key, list);
                    record.Append(key, record.Id);
                    request.Reads.Add(new TxnReadDependency { Key = ByteString.CopyFromUtf8(key), Version = version > StorageTimestamp.Zero ? TxnWire.ToWire(version) : null });
                    request.Writes.Add(new TxnWrite { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(string.Join(',', list.Append(record.Id))) });
                }
                string outcome;
                try
                {
                    var result = stagedByClient ? await StageAsClientAsync(coordinator, ranges, request) : await coordinator.CommitAsync(request, default);
                    outcome = result.Status == CommitStatus.Committed ? "committed" : "aborted";
                }
                catch (Exception e) when (e is TxnOutcomeUnknownException or IOException)
                {
                    outcome = "unknown";
                }
                record.Complete(outcome switch { "committed" => TxnOutcome.Committed, "aborted" => TxnOutcome.Aborted, _ => TxnOutcome.Unknown });
                outcomes[record.Id] = (outcome, keys);
            }
        })).ToList();
        await Task.WhenAll(clients);
        await stop.CancelAsync();
        await recoverer;

        // Settle: no more faults; finish whatever is still locked.
        ranges.FaultRate = 0;
        await coordinator.DrainAsync(default);
        for (int round = 0; ranges.LockCount > 0 && round < 100; round++)
            foreach (var key in Keys) await TryRecoverAsync(coordinator, ranges, key);
        Assert.Equal(0, ranges.LockCount);
        await coordinator.DisposeAsync();

        var final = recorder.Begin();
        var lists = Keys.ToDictionary(k => k, k => ranges.ReadAt(k, StorageTimestamp.Max).List);
        foreach (var key in Keys) final.Read(key, lists[key]);
        final.Complete(TxnOutcome.Committed);

        var check = ListAppendChecker.Check(recorder.ToHistory());
        output.WriteLine($"seed {seed}: {check.Describe(3)}");
        foreach (var (id, (outcome, keys)) in outcomes)
        {
            int appliedIn = keys.Count(k => lists[k].Contains(id));
            Assert.True(appliedIn == 0 || appliedIn == keys.Length, $"seed {seed}: transaction {id} applied in {appliedIn} of its {keys.Length} keys");
            if (outcome == "committed") Assert.True(appliedIn == keys.Length, $"seed {seed}: transaction {id} committed but is missing");
            if (outcome == "aborted") Assert.True(appliedIn == 0, $"seed {seed}: transaction {id} aborted but applied");
        }
        foreach (var key in Keys) Assert.Equal(lists[key].Count, lists[key].Distinct().Count());
        Assert.True(check.IsValid, $"seed {seed}: {check.Describe()}");
        return (outcomes.Values.Count(o => o.Outcome == "committed"), outcomes.Values.Count(o => o.Outcome == "aborted"),
            outcomes.Values.Count(o => o.Outcome == "unknown"));
    }

    /// <summary>
    /// What the SDK does when it stages a commit itself (docs/transactions.md §3, "Staged by the client"): one part per
    /// range, all at once, at a commit timestamp above the read timestamp, the manifest in the home key's part; then
    /// Finish as the parts ended. A lost answer (IOException) of a part makes it FINISH_UNKNOWN; a lost answer of the
    /// finish is unknown unless every part was staged (committed then) or one was refused (aborted then).
    /// </summary>
    private static async Task<CommitOutcome> StageAsClientAsync(TxnCoordinator coordinator, InMemoryRanges ranges, CommitTransactionRequest request)
    {
        var home = request.Writes[0].Key;
        var keys = request.Writes.Select(w => w.Key).Concat(request.Reads.Select(r => r.Key)).Distinct().ToList();
        var commitTs = TxnWire.ToWire(await ranges.NowAboveAsync(TxnWire.ToStorage(request.ReadTimestamp), default));
        var parts = keys.GroupBy(k => ((ITxnRanges)ranges).RangeOf(k.Span)).Select(g =>
        {
            var inRange = g.ToHashSet();
            var part = new TxnStageRequest
            {
                Part = new CommitTransactionRequest { TxnId = request.TxnId, ReadTimestamp = request.ReadTimestamp, Protocol = CommitProtocol.Paxos },
                HomeKey = home,
                CommitTimestamp = commitTs,
            };
            part.Part.Writes.AddRange(request.Writes.Where(w => inRange.Contains(w.Key)));
            part.Part.Reads.AddRange(request.Reads.Where(r => inRange.Contains(r.Key)));
            if (inRange.Contains(home)) part.ManifestKeys.AddRange(keys);
            return part;
        }).ToList();
        var stages = parts.Select(p => coordinator.StageAsync(p, default)).ToList();
        try
        {
            await Task.WhenAll(stages);
        }
        catch (IOException)
        {
            // Looked at part by part below.
        }
        var finish = new TxnFinishRequest { TxnId = request.TxnId, HomeKey = home, CommitTimestamp = commitTs };
        finish.Keys.AddRange(keys);
        var refused = stages.FirstOrDefault(s => s.IsCompletedSuccessfully && !s.Result.Staged);
        finish.Outcome = stages.All(s => s.IsCompletedSuccessfully && s.Result.Staged) ? TxnFinishRequest.Types.Outcome.FinishStaged
            : refused is not null ? TxnFinishRequest.Types.Outcome.FinishRefused : TxnFinishRequest.Types.Outcome.FinishUnknown;
        if (refused is not null) finish.Conflict = new TxnConflict { Reason = refused.Result.Reason };
        try
        {
            return await coordinator.FinishAsync(finish);
        }
        catch (IOException) when (finish.Outcome != TxnFinishRequest.Types.Outcome.FinishUnknown)
        {
            return finish.Outcome == TxnFinishRequest.Types.Outcome.FinishStaged
                ? CommitOutcome.Committed(TxnWire.ToStorage(commitTs))
                : new CommitOutcome(CommitStatus.Conflict, StorageTimestamp.Zero, "refused; the finish was lost");
        }
    }

    private static async Task TryRecoverAsync(TxnCoordinator coordinator, InMemoryRanges ranges, string key)
    {
        var held = ranges.LockOn(key);
        if (held is null) return;
        try
        {
            await coordinator.RecoverAsync(held, default);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // A lost answer mid-recovery: the next round tries again.
        }
    }
}
