using Kv.Client;

namespace Kv.Load;

/// <summary>
/// Kv through its SDK: writes and linearizable reads go to the leader (learned from NotLeader answers), serializable
/// reads to the replicas in turn.
/// </summary>
internal sealed class KvTarget : ILoadTarget
{
    private readonly KvClient[] _clients;
    private readonly KeySpace _keys;

    public KvTarget(LoadOptions options, KeySpace keys)
    {
        _keys = keys;
        _clients = new KvClient[options.ClientInstances];
        for (int i = 0; i < _clients.Length; i++)
        {
            var clientOptions = new KvClientOptions
            {
                // A client id carries one write at a time, and the SDK's default of 16 lanes would cap the writes in
                // flight at 16 whatever the number of workers: give every worker a lane of its own.
                WriteLanes = Math.Clamp(options.Clients, 16, 1024),
                PerCallTimeout = TimeSpan.FromSeconds(5),
                OverallDeadline = TimeSpan.FromSeconds(10),
            };
            if (options.BundleCalls is { } bundleCalls) clientOptions.BundleCallsInFlight = bundleCalls;
            _clients[i] = new KvClient(options.Endpoints, clientOptions);
        }
    }

    public Task PutAsync(int key, CancellationToken cancellationToken) =>
        Client(key).PutAsync(_keys.Key(key), _keys.Value, cancellationToken);

    public async Task GetAsync(int key, CancellationToken cancellationToken)
    {
        var entry = await Client(key).GetAsync(_keys.Key(key), cancellationToken).ConfigureAwait(false);
        if (entry is null) throw new MissingKeyException(KeySpace.Name(key));
    }

    public async Task SerializableGetAsync(int key, CancellationToken cancellationToken)
    {
        // The SDK sends these to the range's replicas in turn; each answers from what it has applied.
        var entry = await Client(key).GetAsync(_keys.Key(key), KvReadConsistency.Serializable, cancellationToken).ConfigureAwait(false);
        if (entry is null) throw new MissingKeyException(KeySpace.Name(key));
    }

    /// <summary>
    /// One: the server applies a <c>Batch</c> request's puts one after another, each its own consensus round, so a
    /// batch of 250 puts to one range took over the 5 s per-call timeout on the loaded VM, while as many single puts
    /// in parallel share group-committed syncs.
    /// </summary>
    public int PutManyKeysMax => 1;

    /// <summary>Single puts, one after another (<see cref="PutManyKeysMax"/> is 1, so the preloader sends one key per call).</summary>
    public async Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken)
    {
        for (int k = firstKey; k < firstKey + count; k++) await PutAsync(k, cancellationToken).ConfigureAwait(false);
    }

    private KvClient Client(int key) => _clients[key % _clients.Length];

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync().ConfigureAwait(false);
    }
}
