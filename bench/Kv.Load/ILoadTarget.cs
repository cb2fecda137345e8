namespace Kv.Load;

/// <summary>One system under load. Thread-safe: every worker calls it concurrently.</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    /// <summary>Writes the key space's value under key <paramref name="key"/>; throws on failure.</summary>
    Task PutAsync(int key, CancellationToken cancellationToken);

    /// <summary>Reads key <paramref name="key"/> linearizably; throws on failure, including when the key is absent.</summary>
    Task GetAsync(int key, CancellationToken cancellationToken);

    /// <summary>
    /// Reads key <paramref name="key"/> serializably (any member may answer from its own state, possibly stale: etcd's
    /// <c>serializable=true</c>, Kv's <c>READ_CONSISTENCY_SERIALIZABLE</c>); throws on failure, including when the key is absent.
    /// </summary>
    Task SerializableGetAsync(int key, CancellationToken cancellationToken);

    /// <summary>The most keys <see cref="PutManyAsync"/> takes in one call (what one request of the system may hold).</summary>
    int PutManyKeysMax { get; }

    /// <summary>
    /// Writes the key space's value under keys <paramref name="firstKey"/> … <paramref name="firstKey"/> +
    /// <paramref name="count"/> − 1 in as few requests as the system allows (for untimed preloading, never measured);
    /// throws on failure.
    /// </summary>
    Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken);
}

/// <summary>A linearizable read found no value for a key that was preloaded: counted as an error, never as a success.</summary>
internal sealed class MissingKeyException(string key) : Exception($"key {key} not found after preload");
