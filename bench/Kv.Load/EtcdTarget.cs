using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Kv.Load;

/// <summary>
/// etcd through dotnet-etcd: the package balances calls round-robin over the members (as etcd's own Go client does);
/// a follower forwards puts to the leader and serves linearizable reads through a read index, serializable ones from its own store.
/// </summary>
internal sealed class EtcdTarget : ILoadTarget
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly EtcdClient[] _clients;
    private readonly ByteString[] _keys;
    private readonly ByteString _value;

    public EtcdTarget(LoadOptions options, KeySpace keys)
    {
        _keys = new ByteString[keys.Count];
        for (int n = 0; n < keys.Count; n++) _keys[n] = ByteString.CopyFrom(keys.Key(n));
        _value = ByteString.CopyFrom(keys.Value);
        _clients = new EtcdClient[options.ClientInstances];
        for (int i = 0; i < _clients.Length; i++)
        {
            _clients[i] = new EtcdClient(string.Join(',', options.Endpoints), configureChannelOptions: channel =>
            {
                channel.Credentials = ChannelCredentials.Insecure;
                // The same transport settings the Kv SDK uses, so that neither side is held back by one HTTP/2
                // connection's stream limit.
                channel.HttpHandler = new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = true,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                };
                channel.DisposeHttpClient = true;
            });
        }
    }

    public Task PutAsync(int key, CancellationToken cancellationToken) =>
        Client(key).PutAsync(new PutRequest { Key = _keys[key], Value = _value },
            deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);

    public async Task GetAsync(int key, CancellationToken cancellationToken)
    {
        // Serializable = false (the default) asks for a linearizable read.
        var response = await Client(key).GetAsync(new RangeRequest { Key = _keys[key], Serializable = false },
            deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Count == 0) throw new MissingKeyException(KeySpace.Name(key));
    }

    public async Task SerializableGetAsync(int key, CancellationToken cancellationToken)
    {
        // Serializable = true: the member the balancer picked answers from its own store, without a read index.
        var response = await Client(key).GetAsync(new RangeRequest { Key = _keys[key], Serializable = true },
            deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Count == 0) throw new MissingKeyException(KeySpace.Name(key));
    }

    /// <summary>etcd's default limit on the operations of one transaction (<c>--max-txn-ops</c>).</summary>
    public int PutManyKeysMax => 128;

    /// <summary>One etcd transaction of unconditional puts.</summary>
    public Task PutManyAsync(int firstKey, int count, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        for (int k = firstKey; k < firstKey + count; k++)
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _keys[k], Value = _value } });
        return Client(firstKey).TransactionAsync(txn, deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
    }

    private EtcdClient Client(int key) => _clients[key % _clients.Length];

    public ValueTask DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        return ValueTask.CompletedTask;
    }
}
