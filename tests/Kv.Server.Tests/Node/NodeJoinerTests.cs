using System.Net;
using System.Net.Sockets;
using Kv.Server.Node;
using Kv.Server.Ranges;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kv.Server.Tests.Node;

/// <summary>Stopping a node while its join request is still in flight.</summary>
public sealed class NodeJoinerTests
{
    [Fact(Timeout = 30_000)]
    public async Task StoppedWhileAJoinCallHangs_StopsQuietly()
    {
        // A member that accepts the connection and never answers: the AddNode call hangs until cancelled.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) accepted.Add(await silent.AcceptSocketAsync());
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the listener stopped
            }
        });
        var member = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");
        var joiner = new NodeJoiner(4, new Uri("http://127.0.0.1:1"), [member], new NodeAddressBook([]), NullLogger<NodeJoiner>.Instance);
        joiner.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (accepted.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.NotEmpty(accepted); // the call is in flight
        await Task.Delay(200);

        // The channel reports the cancelled call as RpcException(Cancelled): a stop must swallow it, not fail.
        await joiner.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        silent.Stop();
        await accepting;
        foreach (var socket in accepted) socket.Dispose();
    }
}
