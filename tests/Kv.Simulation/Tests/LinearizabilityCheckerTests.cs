using Kv.Simulation.Checking;

namespace Kv.Simulation.Tests;

public sealed class LinearizabilityCheckerTests
{
    private static KvOperation W(string key, string? value, long invoke, long? response, int client = 0) =>
        new(client, key, KvOperationKind.Write, value, invoke, response);

    private static KvOperation R(string key, string? value, long invoke, long response, int client = 0) =>
        new(client, key, KvOperationKind.Read, value, invoke, response);

    private static void AssertLinearizable(IReadOnlyList<KvOperation> history)
    {
        LinearizabilityResult result = LinearizabilityChecker.Check(history);
        Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, result.ToString());
        Assert.Null(result.Key);
    }

    private static LinearizabilityResult AssertNotLinearizable(IReadOnlyList<KvOperation> history, string key)
    {
        LinearizabilityResult result = LinearizabilityChecker.Check(history);
        Assert.True(result.Outcome == LinearizabilityOutcome.NotLinearizable, result.ToString());
        Assert.Equal(key, result.Key);
        Assert.Contains($"\"{key}\"", result.Explanation, StringComparison.Ordinal);
        return result;
    }

    [Fact]
    public void EmptyHistory_IsLinearizable()
    {
        LinearizabilityResult result = LinearizabilityChecker.Check([]);
        Assert.Equal(LinearizabilityOutcome.Linearizable, result.Outcome);
        Assert.Equal(0, result.KeysChecked);
    }

    [Fact]
    public void SequentialHistory_IsLinearizable()
    {
        AssertLinearizable(
        [
            R("a", null, 0, 1),
            W("a", "x", 2, 3),
            R("a", "x", 4, 5),
            W("a", "y", 6, 7),
            R("a", "y", 8, 9),
            W("a", "x", 10, 11), // the same value written twice
            R("a", "x", 12, 13),
        ]);
    }

    [Theory]
    [InlineData("x", "y")]
    [InlineData("y", "x")]
    public void ConcurrentWrites_ReadsMayObserveEitherOrder(string first, string second)
    {
        AssertLinearizable(
        [
            W("a", "x", 0, 10, client: 1),
            W("a", "y", 0, 10, client: 2),
            R("a", first, 2, 4, client: 3),
            R("a", second, 5, 8, client: 3),
            R("a", second, 20, 21, client: 4),
        ]);
    }

    [Fact]
    public void ConcurrentWrites_ValueChangesAfterBothComplete_IsRejected()
    {
        AssertNotLinearizable(
        [
            W("a", "x", 0, 10, client: 1),
            W("a", "y", 0, 10, client: 2),
            R("a", "x", 20, 21, client: 3),
            R("a", "y", 22, 23, client: 3),
        ], "a");
    }

    [Fact]
    public void StaleReadAfterCompletedWrite_IsRejected()
    {
        LinearizabilityResult result = AssertNotLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, 3, client: 1),
            R("a", "x", 4, 5, client: 2),
        ], "a");
        Assert.Equal(1, result.KeysChecked);
        // The explanation names the operation that could not be placed.
        Assert.Contains("#2 client 2 read -> \"x\"", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOfInitialValueAfterCompletedWrite_IsRejected()
    {
        AssertNotLinearizable([W("a", "x", 0, 1), R("a", null, 2, 3)], "a");
    }

    [Fact]
    public void ReadOfValueNeverWritten_IsRejected()
    {
        LinearizabilityResult result = AssertNotLinearizable([W("a", "x", 0, 1), R("a", "ghost", 2, 3)], "a");
        Assert.Contains("ghost", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOfValueWrittenOnlyToAnotherKey_IsRejected()
    {
        AssertNotLinearizable([W("b", "x", 0, 1), R("a", "x", 2, 3)], "a");
    }

    [Fact]
    public void ReadOfOldValueAfterAnotherReaderSawNewValue_IsRejected()
    {
        // The write of "y" is still in flight, so either value may be read while it runs, but once a read has
        // returned "y", a later (non-overlapping) read must not return "x".
        AssertNotLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, 20, client: 1),
            R("a", "y", 3, 5, client: 2),
            R("a", "x", 6, 8, client: 3),
        ], "a");
    }

    [Fact]
    public void OldThenNewValueDuringInFlightWrite_IsAccepted()
    {
        AssertLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, 20, client: 1),
            R("a", "x", 3, 5, client: 2),
            R("a", "y", 6, 8, client: 3),
            R("a", "y", 21, 22, client: 3),
        ]);
    }

    [Fact]
    public void TimedOutWrite_ObservedLater_IsAccepted()
    {
        AssertLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, null, client: 1),
            R("a", "x", 5, 6, client: 2),
            R("a", "y", 100, 101, client: 2),
            R("a", "y", 102, 103, client: 3),
        ]);
    }

    [Fact]
    public void TimedOutWrite_NeverObserved_IsAccepted()
    {
        AssertLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, null, client: 1),
            R("a", "x", 100, 101, client: 2),
            R("a", "x", 1000, 1001, client: 3),
        ]);
    }

    [Fact]
    public void TimedOutWrite_ObservedThenOldValueAgain_IsRejected()
    {
        AssertNotLinearizable(
        [
            W("a", "x", 0, 1, client: 1),
            W("a", "y", 2, null, client: 1),
            R("a", "y", 10, 11, client: 2),
            R("a", "x", 12, 13, client: 2),
        ], "a");
    }

    [Fact]
    public void TimedOutWrites_OnlyHistory_IsAccepted()
    {
        AssertLinearizable([W("a", "x", 0, null), W("a", "y", 1, null), W("b", "z", 2, null)]);
    }

    [Fact]
    public void WriteObservedBeforeItsInvoke_IsRejected()
    {
        AssertNotLinearizable([R("a", "x", 0, 1, client: 2), W("a", "x", 5, 6, client: 1)], "a");
    }

    [Fact]
    public void TimedOutWriteObservedBeforeItsInvoke_IsRejected()
    {
        AssertNotLinearizable([R("a", "x", 0, 1, client: 2), W("a", "x", 5, null, client: 1)], "a");
    }

    [Fact]
    public void ResponseAndInvokeAtTheSameTick_AreConcurrent()
    {
        // The read is invoked at the tick the write responds, so it may be ordered before the write.
        AssertLinearizable([W("a", "x", 0, 5), R("a", null, 5, 6)]);
        AssertNotLinearizable([W("a", "x", 0, 5), R("a", null, 6, 7)], "a");
    }

    [Fact]
    public void ZeroDurationOperations_AreAccepted()
    {
        AssertLinearizable([W("a", "x", 3, 3), R("a", "x", 3, 3), W("a", "y", 4, 4), R("a", "y", 4, 4)]);
    }

    [Fact]
    public void KeysAreCheckedIndependently_ViolationOnSecondKeyIsReported()
    {
        LinearizabilityResult result = AssertNotLinearizable(
        [
            W("a", "x", 0, 1),
            R("a", "x", 2, 3),
            W("b", "x", 0, 1),
            W("b", "y", 2, 3),
            R("b", "x", 4, 5), // stale
            W("a", "y", 4, 5),
            R("a", "y", 6, 7),
        ], "b");
        Assert.Equal(2, result.KeysChecked);
        Assert.DoesNotContain("Key \"a\"", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void KeysAreCheckedIndependently_ValuesDoNotLeakAcrossKeys()
    {
        LinearizabilityResult result = LinearizabilityChecker.Check(
        [
            W("a", "x", 0, 1),
            W("b", "y", 2, 3),
            R("a", "x", 4, 5), // "y" was written later, but to another key
            R("b", "y", 4, 5),
            R("c", null, 4, 5),
        ]);
        Assert.Equal(LinearizabilityOutcome.Linearizable, result.Outcome);
        Assert.Equal(3, result.KeysChecked);
    }

    [Fact]
    public void TinyStateBudget_OnHighlyConcurrentHistory_IsUnknown()
    {
        // 12 writes and 12 reads, all concurrent: linearizable (read each value right after its write), but the
        // search needs more than a handful of states to find that out.
        var history = new List<KvOperation>();
        for (int i = 0; i < 12; i++)
        {
            history.Add(W("a", $"v{i}", 0, 100, client: i));
            history.Add(R("a", $"v{(i * 5) % 12}", 0, 100, client: 100 + i));
        }
        history.Add(W("b", "x", 0, 1));

        LinearizabilityResult limited = LinearizabilityChecker.Check(history, maxStatesPerKey: 5);
        Assert.True(limited.Outcome == LinearizabilityOutcome.Unknown, limited.ToString());
        Assert.Equal("a", limited.Key);
        Assert.Equal(2, limited.KeysChecked);
        Assert.Contains("maxStatesPerKey", limited.Explanation, StringComparison.Ordinal);

        LinearizabilityResult full = LinearizabilityChecker.Check(history);
        Assert.True(full.Outcome == LinearizabilityOutcome.Linearizable, full.ToString());
    }

    [Fact]
    public void ViolationOnOneKey_WinsOverUnknownOnAnother()
    {
        var history = new List<KvOperation>();
        for (int i = 0; i < 12; i++)
        {
            history.Add(W("a", $"v{i}", 0, 100, client: i));
            history.Add(R("a", $"v{i}", 0, 100, client: 100 + i));
        }
        history.Add(W("b", "x", 0, 1));
        history.Add(R("b", null, 2, 3));

        LinearizabilityResult result = LinearizabilityChecker.Check(history, maxStatesPerKey: 5);
        Assert.Equal(LinearizabilityOutcome.NotLinearizable, result.Outcome);
        Assert.Equal("b", result.Key);
    }

    [Fact]
    public void ReadWithoutResponse_Throws()
    {
        var history = new[] { new KvOperation(0, "a", KvOperationKind.Read, null, 0, null) };
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check(history));
    }

    [Fact]
    public void ResponseBeforeInvoke_Throws()
    {
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check([W("a", "x", 5, 4)]));
    }

    [Fact]
    public void ManyConcurrentClients_LongLinearizableHistory_IsCheckedWithFewStates()
    {
        // 5 keys x 200 ops, heavily overlapping; the memo keeps the search close to linear in the history size.
        List<KvOperation> history = RandomLinearizableHistory(new Random(12345), ["a", "b", "c", "d", "e"], 1000, maxJitter: 40);
        LinearizabilityResult result = LinearizabilityChecker.Check(history);
        Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, result.ToString());
        Assert.Equal(5, result.KeysChecked);
        Assert.True(result.StatesExplored < 100_000, result.ToString());
    }

    [Fact]
    public void RandomJitteredSequentialHistories_AreLinearizable_AndMutatedReadsAreCaught()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);
            string[] keys = new[] { "k0", "k1", "k2" }[..rng.Next(1, 4)];
            List<KvOperation> history = RandomLinearizableHistory(rng, keys, rng.Next(1, 120), maxJitter: rng.Next(0, 60));

            LinearizabilityResult result = LinearizabilityChecker.Check(history);
            Assert.True(result.Outcome == LinearizabilityOutcome.Linearizable, $"seed {seed}: {result}");

            // Shuffling the history does not matter.
            List<KvOperation> shuffled = [.. history];
            rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
            Assert.Equal(LinearizabilityOutcome.Linearizable, LinearizabilityChecker.Check(shuffled).Outcome);

            List<int> reads = [];
            for (int i = 0; i < history.Count; i++)
            {
                if (history[i].Kind == KvOperationKind.Read)
                    reads.Add(i);
            }
            if (reads.Count == 0)
                continue;
            int victim = reads[rng.Next(reads.Count)];
            List<KvOperation> mutated = [.. history];
            mutated[victim] = history[victim] with { Value = "never-written" };
            LinearizabilityResult caught = LinearizabilityChecker.Check(mutated);
            Assert.True(caught.Outcome == LinearizabilityOutcome.NotLinearizable, $"seed {seed}: {caught}");
            Assert.Equal(history[victim].Key, caught.Key);
        }
    }

    [Fact]
    public void RandomJitteredSequentialHistories_StaleReadMutationIsCaught()
    {
        int mutatedCount = 0;
        for (int seed = 0; seed < 300; seed++)
        {
            var rng = new Random(seed);
            List<KvOperation> history = RandomLinearizableHistory(rng, ["k0", "k1"], rng.Next(10, 150), maxJitter: rng.Next(0, 30));
            int? mutatedIndex = null;
            string? staleValue = null;

            // Find a read r, a completed write old, and a completed write newer (other value) such that
            // old responds before newer is invoked and newer responds before r is invoked: r may not read old's value.
            // Values written are unique, so only `old` wrote its value.
            foreach (int r in ShuffledIndices(rng, history.Count))
            {
                KvOperation read = history[r];
                if (read.Kind != KvOperationKind.Read)
                    continue;
                foreach (KvOperation newer in history)
                {
                    if (newer.Kind != KvOperationKind.Write || newer.Key != read.Key || newer.ResponseTime is not { } newerResponse
                        || newerResponse >= read.InvokeTime)
                    {
                        continue;
                    }
                    foreach (KvOperation old in history)
                    {
                        if (old.Kind == KvOperationKind.Write && old.Key == read.Key && old.ResponseTime < newer.InvokeTime
                            && old.Value != read.Value)
                        {
                            staleValue = old.Value;
                            break;
                        }
                    }
                    if (staleValue is not null)
                        break;
                }
                if (staleValue is not null)
                {
                    mutatedIndex = r;
                    break;
                }
            }
            if (mutatedIndex is not { } victim)
                continue;

            mutatedCount++;
            List<KvOperation> mutated = [.. history];
            mutated[victim] = history[victim] with { Value = staleValue };
            LinearizabilityResult caught = LinearizabilityChecker.Check(mutated);
            Assert.True(caught.Outcome == LinearizabilityOutcome.NotLinearizable, $"seed {seed}: {caught}");
            Assert.Equal(history[victim].Key, caught.Key);
        }
        Assert.True(mutatedCount > 200, $"only {mutatedCount} histories could be mutated");
    }

    [Fact]
    public void RandomSmallHistories_AgreeWithBruteForce()
    {
        int linearizable = 0;
        int notLinearizable = 0;
        for (int seed = 0; seed < 3000; seed++)
        {
            var rng = new Random(seed);
            int count = rng.Next(1, 8);
            string?[] readValues = [null, "x", "y", "z"];
            string[] writeValues = ["x", "y", "z"];
            var history = new List<KvOperation>();
            for (int i = 0; i < count; i++)
            {
                long invoke = rng.Next(0, 12);
                long response = invoke + rng.Next(0, 6);
                if (rng.Next(2) == 0)
                {
                    bool timedOut = rng.Next(5) == 0;
                    history.Add(W("a", writeValues[rng.Next(writeValues.Length)], invoke, timedOut ? null : response, client: i));
                }
                else
                {
                    history.Add(R("a", readValues[rng.Next(readValues.Length)], invoke, response, client: i));
                }
            }

            bool expected = BruteForceLinearizable(history);
            LinearizabilityResult result = LinearizabilityChecker.Check(history);
            Assert.True(
                result.Outcome == (expected ? LinearizabilityOutcome.Linearizable : LinearizabilityOutcome.NotLinearizable),
                $"seed {seed}: expected linearizable={expected}, got {result}");
            if (expected)
                linearizable++;
            else
                notLinearizable++;
        }
        // Both verdicts are exercised substantially.
        Assert.True(linearizable > 500 && notLinearizable > 500, $"{linearizable} linearizable, {notLinearizable} not");
    }

    /// <summary>
    /// A linearizable history built from a random sequential execution: every op gets a distinct linearization point
    /// (interleaved over <paramref name="keys"/>), then its invoke and response are jittered to either side of that
    /// point, which makes ops overlap while keeping the sequential order a valid linearization. Written values are
    /// unique. Some writes time out (no response); half of those take effect.
    /// </summary>
    private static List<KvOperation> RandomLinearizableHistory(Random rng, string[] keys, int count, int maxJitter)
    {
        var state = new Dictionary<string, string?>();
        var history = new List<KvOperation>(count);
        for (int i = 0; i < count; i++)
        {
            string key = keys[rng.Next(keys.Length)];
            long point = 10L * i;
            long invoke = point - rng.Next(0, maxJitter + 1);
            long response = point + rng.Next(0, maxJitter + 1);
            int client = rng.Next(8);
            if (rng.Next(2) == 0)
            {
                string value = $"v{i}";
                bool timedOut = rng.Next(10) == 0;
                if (!timedOut || rng.Next(2) == 0)
                    state[key] = value;
                history.Add(W(key, value, invoke, timedOut ? null : response, client));
            }
            else
            {
                history.Add(R(key, state.GetValueOrDefault(key), invoke, response, client));
            }
        }
        return history;
    }

    private static int[] ShuffledIndices(Random rng, int count)
    {
        var indices = new int[count];
        for (int i = 0; i < count; i++)
            indices[i] = i;
        rng.Shuffle(indices);
        return indices;
    }

    /// <summary>
    /// Reference checker for one key by exhaustive search: repeatedly pick any unplaced op that no unplaced completed op
    /// must precede (responded strictly before its invoke) and that is legal in the current register state; succeed
    /// once every op with a response is placed (timed-out writes may stay unplaced).
    /// </summary>
    private static bool BruteForceLinearizable(List<KvOperation> ops)
    {
        var placed = new bool[ops.Count];
        return Search(null);

        bool Search(string? state)
        {
            bool allKnownPlaced = true;
            for (int i = 0; i < ops.Count; i++)
            {
                if (!placed[i] && ops[i].ResponseTime.HasValue)
                    allKnownPlaced = false;
            }
            if (allKnownPlaced)
                return true;

            for (int i = 0; i < ops.Count; i++)
            {
                if (placed[i])
                    continue;
                KvOperation op = ops[i];
                bool mustWait = false;
                for (int j = 0; j < ops.Count; j++)
                {
                    if (j != i && !placed[j] && ops[j].ResponseTime < op.InvokeTime)
                        mustWait = true;
                }
                if (mustWait)
                    continue;
                if (op.Kind == KvOperationKind.Read && op.Value != state)
                    continue;
                placed[i] = true;
                if (Search(op.Kind == KvOperationKind.Write ? op.Value : state))
                    return true;
                placed[i] = false;
            }
            return false;
        }
    }
}
