using Kv.Client;

namespace Kv.Load;

/// <summary>Kv through its SDK: writes go to the leader (learned from NotLeader answers), reads are linearizable.</summary>
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
            _clients[i] = new KvClient(options.Endpoints, new KvClientOptions
            {
                // A client id carries one write at a time, and the SDK's default of 16 lanes would cap the writes in
                // flight at 16 whatever the number of workers: give every worker a lane of its own.
                WriteLanes = Math.Clamp(options.Clients, 16, 1024),
                PerCallTimeout = TimeSpan.FromSeconds(5),
                OverallDeadline = TimeSpan.FromSeconds(10),
            });
        }
    }

    public Task PutAsync(int key, CancellationToken cancellationToken) =>
        Client(key).PutAsync(_keys.Key(key), _keys.Value, cancellationToken);

    public async Task GetAsync(int key, CancellationToken cancellationToken)
    {
        var entry = await Client(key).GetAsync(_keys.Key(key), cancellationToken).ConfigureAwait(false);
        if (entry is null) throw new MissingKeyException(KeySpace.Name(key));
    }

    /// <summary>The server's limit on the operations of one <c>Batch</c> request (the SDK's default chunk).</summary>
    public int PutManyKeysMax => 1_000;

    /// <summary>
    /// Through <see cref="KvClient.PutManyAsync(IEnumerable{ValueTuple{ReadOnlyMemory{byte}, ReadOnlyMemory{byte}}}, CancellationToken)"/>:
    /// grouped by range, each put applied once (its own write id).
    /// </summary>
    public Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken) =>
        Client(firstKey).PutManyAsync(Enumerable.Range(firstKey, count)
            .Select(k => ((ReadOnlyMemory<byte>)_keys.Key(k), (ReadOnlyMemory<byte>)_keys.Value)).ToArray(), cancellationToken);

    private KvClient Client(int key) => _clients[key % _clients.Length];

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync().ConfigureAwait(false);
    }
}
