using System.Collections.Concurrent;

namespace Kv.Load.Tests;

public class MixedWorkloadTests
{
    [Fact]
    public async Task Half_the_operations_are_linearizable_gets_and_half_puts_over_uniform_keys()
    {
        const int keys = 1_000, operations = 40_000;
        var target = new RecordingTarget();
        var workload = new MixedWorkload(target, keys);
        var random = new Random(11);
        var variants = new int[MixedWorkload.VariantNames.Count];
        for (int i = 0; i < operations; i++) variants[(await workload.RunAsync(random, CancellationToken.None)).Variant]++;

        Assert.Equal(["get", "put"], MixedWorkload.VariantNames);
        Assert.Equal(target.Gets.Count, variants[0]);
        Assert.Equal(target.Puts.Count, variants[1]);
        Assert.InRange(target.Gets.Count / (double)operations, 0.49, 0.51);
        Assert.Empty(target.SerializableGets);
        // Uniform keys: each tenth of the key space gets a tenth of each kind, give or take.
        foreach (var kind in new[] { target.Gets, target.Puts })
        {
            var tenths = kind.GroupBy(k => k * 10 / keys).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(10, tenths.Count);
            Assert.All(tenths.Values, n => Assert.InRange(n / (double)kind.Count, 0.09, 0.11));
        }
    }

    [Theory]
    [InlineData("etcd", "sget")]
    [InlineData("etcd", "mixed")]
    [InlineData("kv", "sget")]
    [InlineData("kv", "mixed")]
    public void Sget_and_mixed_run_against_both_targets(string target, string op)
    {
        var o = LoadOptions.Parse(["--target", target, "--endpoints", "http://127.0.0.1:1", "--op", op, "--clients", "64", "--rate", "100"]);
        Assert.Equal(op == "sget" ? LoadOperation.SerializableGet : LoadOperation.Mixed, o.Operation);
    }

    private sealed class RecordingTarget : ILoadTarget
    {
        public ConcurrentQueue<int> Gets { get; } = new();

        public ConcurrentQueue<int> SerializableGets { get; } = new();

        public ConcurrentQueue<int> Puts { get; } = new();

        public int PutManyKeysMax => 1;

        public Task PutAsync(int key, CancellationToken cancellationToken)
        {
            Puts.Enqueue(key);
            return Task.CompletedTask;
        }

        public Task GetAsync(int key, CancellationToken cancellationToken)
        {
            Gets.Enqueue(key);
            return Task.CompletedTask;
        }

        public Task SerializableGetAsync(int key, CancellationToken cancellationToken)
        {
            SerializableGets.Enqueue(key);
            return Task.CompletedTask;
        }

        public Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken) => throw new InvalidOperationException("not preloaded here");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
