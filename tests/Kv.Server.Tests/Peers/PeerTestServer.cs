using System.Net;
using System.Net.Sockets;
using Kv.Server.Peers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kv.Server.Tests.Peers;

/// <summary>An in-process Kestrel server on 127.0.0.1 (HTTP/2 only, plaintext) hosting <see cref="PeerService"/>.</summary>
internal sealed class PeerTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PeerTestServer(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>Starts a server for node <paramref name="nodeId"/> on <paramref name="port"/> (0: any free port).</summary>
    public static async Task<PeerTestServer> StartAsync(ulong nodeId, IPeerMessageSink sink, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sink);
        builder.Services.AddSingleton(new PeerLocalNode(nodeId));
        var app = builder.Build();
        app.MapGrpcService<PeerService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new PeerTestServer(app, new Uri(address));
    }

    /// <summary>A port that was free a moment ago, for a server that starts later.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
