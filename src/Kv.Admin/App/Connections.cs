using Grpc.Net.Client;
using Kv.Client;

namespace Kv.Admin.App;

/// <summary>
/// The channels and clients a kvctl process opens, kept for its life so that the shell's commands reuse them;
/// disposed when the command (or the shell) ends.
/// </summary>
public sealed class Connections : IAsyncDisposable
{
    private readonly Dictionary<string, GrpcChannel> _channels = [];
    private readonly Dictionary<string, KvClient> _clients = [];
    private readonly Lock _gate = new();

    /// <summary>The channel to one node (created on first use).</summary>
    public GrpcChannel Channel(Uri endpoint)
    {
        var key = endpoint.ToString().TrimEnd('/');
        lock (_gate)
        {
            if (!_channels.TryGetValue(key, out var channel))
                _channels[key] = channel = GrpcChannel.ForAddress(key, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
            return channel;
        }
    }

    /// <summary>A data client over <paramref name="settings"/>' endpoints, with its timeout as the overall deadline.</summary>
    public KvClient Client(CommandSettings settings)
    {
        var key = string.Join(",", settings.Endpoints) + "|" + settings.Timeout.TotalMilliseconds;
        lock (_gate)
        {
            if (!_clients.TryGetValue(key, out var client))
            {
                _clients[key] = client = new KvClient(settings.Endpoints.Select(e => e.ToString().TrimEnd('/')), new KvClientOptions
                {
                    OverallDeadline = settings.Timeout,
                    PerCallTimeout = settings.Timeout < TimeSpan.FromSeconds(3) ? settings.Timeout : TimeSpan.FromSeconds(3),
                    RetryAttemptsMax = 20,
                    RetryBackoffMax = TimeSpan.FromMilliseconds(500),
                });
            }
            return client;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        KvClient[] clients;
        GrpcChannel[] channels;
        lock (_gate)
        {
            clients = [.. _clients.Values];
            channels = [.. _channels.Values];
            _clients.Clear();
            _channels.Clear();
        }
        foreach (var c in clients) await c.DisposeAsync().ConfigureAwait(false);
        foreach (var c in channels) c.Dispose();
    }
}
