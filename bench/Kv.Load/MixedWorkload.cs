namespace Kv.Load;

/// <summary>
/// <c>--op mixed</c>: each operation is, with even odds, a linearizable get or a put of a uniformly random key (the
/// benchmarks issue's "50/50 mixed"). The same on Kv and etcd, unlike YCSB A, which runs through the Kv SDK only.
/// Gets are variant 0 and puts variant 1 (<see cref="VariantNames"/>), so each kind has its own figures besides the
/// overall ones.
/// </summary>
internal sealed class MixedWorkload(ILoadTarget target, int keys)
{
    /// <summary>The result names of the kinds, by variant.</summary>
    public static readonly IReadOnlyList<string> VariantNames = ["get", "put"];

    /// <summary>One operation: draws the kind, then the key, from <paramref name="random"/>.</summary>
    public async Task<OperationOutcome> RunAsync(Random random, CancellationToken cancellationToken)
    {
        bool get = random.Next(2) == 0;
        int key = random.Next(keys);
        if (get) await target.GetAsync(key, cancellationToken).ConfigureAwait(false);
        else await target.PutAsync(key, cancellationToken).ConfigureAwait(false);
        return new OperationOutcome(0, 0, get ? 0 : 1);
    }
}
