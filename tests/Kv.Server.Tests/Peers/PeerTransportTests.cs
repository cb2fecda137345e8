using System.Diagnostics;
using Kv.Paxos;
using Kv.Server.Peers;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Kv.Server.Tests.Peers.PeerTestMessages;

namespace Kv.Server.Tests.Peers;

/// <summary>PeerTransport and PeerService over real gRPC streams between in-process Kestrel servers.</summary>
public sealed class PeerTransportTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitMax = TimeSpan.FromSeconds(15);
    private const int GroupCount = 16;

    private readonly ILogger _logger = new TestOutputLogger(output, LogLevel.Information);

    [Fact(Timeout = 30_000)]
    public async Task ThreeNodes_ExchangeThousandsOfMessagesOfManyGroups_AllDeliveredInPerPeerOrder()
    {
        ulong[] nodes = [1, 2, 3];
        var sinks = nodes.ToDictionary(n => n, _ => new RecordingSink());
        var servers = new Dictionary<ulong, PeerTestServer>();
        var transports = new Dictionary<ulong, PeerTransport>();
        try
        {
            foreach (var n in nodes) servers[n] = await PeerTestServer.StartAsync(n, sinks[n]);
            foreach (var n in nodes)
                transports[n] = new PeerTransport(n, id => servers.TryGetValue(id, out var s) ? s.Endpoint : null, new PeerTransportOptions(), _logger);

            const int warmUpPerPair = 500;
            const int timedPerPair = 10_000;
            await ExchangeAsync(transports, sinks, first: 0, count: warmUpPerPair);
            var clock = Stopwatch.StartNew();
            await ExchangeAsync(transports, sinks, first: warmUpPerPair, count: timedPerPair);
            clock.Stop();

            int pairs = nodes.Length * (nodes.Length - 1);
            output.WriteLine($"{pairs * timedPerPair} messages ({pairs} node pairs, {GroupCount} groups) in {clock.Elapsed.TotalMilliseconds:F0} ms: " +
                             $"{pairs * timedPerPair / clock.Elapsed.TotalSeconds:F0} messages/s");
            // The last acknowledgements may still be on their way after the last delivery.
            await WaitUntilAsync(() => transports.Values.SelectMany(t => t.GetStats()).All(s => s.BatchesAcked == s.BatchesSent),
                WaitMax, "every batch is acknowledged");
            var options = new PeerTransportOptions();
            foreach (var (from, transport) in transports)
            {
                foreach (var to in nodes.Where(n => n != from))
                {
                    var expected = Enumerable.Range(0, warmUpPerPair + timedPerPair).Select(i => (long)i).ToArray();
                    var delivered = sinks[to].From(from);
                    Assert.Equal(expected, delivered.Select(d => Number(d.Message)));
                    Assert.All(delivered, d => Assert.Equal((ulong)(Number(d.Message) % GroupCount), d.GroupId));

                    var stats = transport.GetStats(to)!;
                    output.WriteLine(stats.ToString());
                    Assert.Equal(0, stats.MessagesDropped);
                    Assert.Equal(expected.Length, stats.MessagesSent);
                    Assert.True(stats.BatchesSent < stats.MessagesSent / 4, "messages of many groups share batches");
                    Assert.Equal(stats.BatchesSent, stats.BatchesAcked);
                    Assert.InRange(stats.UnackedBatchesPeak, 1, options.UnackedBatchesMax);
                    Assert.Equal(0, stats.Reconnects);
                }
            }
        }
        finally
        {
            foreach (var t in transports.Values) await t.DisposeAsync();
            foreach (var s in servers.Values) await s.DisposeAsync();
        }
    }

    private static async Task ExchangeAsync(
        Dictionary<ulong, PeerTransport> transports, Dictionary<ulong, RecordingSink> sinks, int first, int count)
    {
        int before = sinks.Values.Sum(s => s.Count);
        // Every node sends from its own thread, as replica loops would.
        var senders = transports.Select(kv => Task.Run(() =>
        {
            var (from, transport) = kv;
            for (long i = first; i < first + count; i++)
                foreach (var to in transports.Keys.Where(n => n != from))
                    Assert.True(transport.Send(to, (ulong)(i % GroupCount), Numbered(i)));
        }));
        await Task.WhenAll(senders);
        int expected = before + transports.Count * (transports.Count - 1) * count;
        await WaitUntilAsync(() => sinks.Values.Sum(s => s.Count) == expected, WaitMax, $"{expected} messages are delivered");
    }

    [Fact(Timeout = 30_000)]
    public async Task DeadPeer_DropsBeyondTheQueueBound_ThenReconnectsAndDeliversWhenItComesUp()
    {
        int port = PeerTestServer.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}");
        var options = new PeerTransportOptions
        {
            OutboundMessagesMax = 64, BatchMessagesMax = 16,
            ReconnectDelayMin = TimeSpan.FromMilliseconds(10), ReconnectDelayMax = TimeSpan.FromMilliseconds(100),
        };
        var sink = new RecordingSink();
        PeerTestServer? server = null;
        var transport = new PeerTransport(1, _ => endpoint, options, _logger);
        try
        {
            int refused = 0;
            for (int i = 0; i < 2_000; i++)
                if (!transport.Send(2, (ulong)(i % 4), Numbered(i))) refused++;
            Assert.InRange(refused, 2_000 - options.OutboundMessagesMax - options.BatchMessagesMax - 1, 2_000);

            // While the peer stays down, the queue stays bounded and the loop keeps retrying.
            var downUntil = Stopwatch.StartNew();
            long n = 2_000;
            while (downUntil.Elapsed < TimeSpan.FromMilliseconds(600))
            {
                transport.Send(2, 1, Numbered(n++));
                Assert.InRange(transport.GetStats(2)!.MessagesQueued, 0, options.OutboundMessagesMax + 1);
                await Task.Delay(5);
            }
            var down = transport.GetStats(2)!;
            output.WriteLine($"while down: {down}");
            Assert.True(down.Reconnects >= 2, $"retried ({down.Reconnects})");
            Assert.True(down.MessagesDropped >= refused);
            Assert.Equal(0, sink.Count);

            server = await PeerTestServer.StartAsync(2, sink, port);
            await WaitUntilAsync(() => transport.GetStats(2) is { MessagesQueued: 0, UnackedBatches: 0 }, WaitMax, "the backlog drains");
            const long freshFirst = 100_000;
            const int freshCount = 60; // fits the drained queue of 64
            for (long i = freshFirst; i < freshFirst + freshCount; i++) Assert.True(transport.Send(2, 5, Numbered(i)));
            await WaitUntilAsync(() => sink.From(1).Count(d => Number(d.Message) >= freshFirst) == freshCount, WaitMax, "fresh messages arrive");

            var numbers = sink.From(1).Select(d => Number(d.Message)).ToArray();
            Assert.Equal(Enumerable.Range((int)freshFirst, freshCount).Select(i => (long)i), numbers.Where(x => x >= freshFirst));
            // What survived the outage arrived in order too (one stream at a time, all of them on one server).
            Assert.Equal(numbers.Order(), numbers);
            output.WriteLine($"after: {transport.GetStats(2)}; delivered {numbers.Length}");
        }
        finally
        {
            await transport.DisposeAsync();
            if (server is not null) await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task UnreachablePeer_IsOneWarningWithItsReason_WithoutAStackTrace()
    {
        // Nothing listens on the port: a peer that is down (or stopping, as in the dev cluster's Ctrl-C).
        var endpoint = new Uri($"http://127.0.0.1:{PeerTestServer.FreePort()}");
        var log = new RecordingLogger();
        var transport = new PeerTransport(1, _ => endpoint, new PeerTransportOptions { FirstContactGrace = TimeSpan.Zero }, log);
        try
        {
            Assert.True(transport.Send(2, 1, Numbered(1)));
            await WaitUntilAsync(() => log.Entries.Any(e => e.Level == LogLevel.Warning), WaitMax, "a warning about node 2");
            var warning = log.Entries.First(e => e.Level == LogLevel.Warning);
            output.WriteLine(warning.Message);
            Assert.Null(warning.Exception);
            Assert.Contains("node 2 failed; retrying in", warning.Message);
            Assert.Contains("Unavailable", warning.Message);
        }
        finally
        {
            await transport.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task PeerNotUpYet_IsAnInformationLine_AndOneWarningOnceTheGraceRunsOut()
    {
        // A starting cluster: its nodes come up one after another, so the first attempts meet closed ports.
        var endpoint = new Uri($"http://127.0.0.1:{PeerTestServer.FreePort()}");
        var log = new RecordingLogger();
        var grace = TimeSpan.FromSeconds(1.5);
        var options = new PeerTransportOptions { FirstContactGrace = grace, ReconnectDelayMax = TimeSpan.FromMilliseconds(200) };
        var transport = new PeerTransport(1, _ => endpoint, options, log);
        using var stop = new CancellationTokenSource();
        // A replica keeps sending (heartbeats, retransmits): the transport connects only when it has something to send.
        var sending = Task.Run(async () =>
        {
            for (int i = 1; !stop.IsCancellationRequested; i++)
            {
                transport.Send(2, 1, Numbered(i));
                await Task.Delay(50);
            }
        });
        try
        {
            var clock = Stopwatch.StartNew();
            await WaitUntilAsync(() => log.Entries.Any(e => e.Message.Contains("not reachable yet")), WaitMax, "an information line about node 2");
            var notice = log.Entries.First(e => e.Message.Contains("not reachable yet"));
            Assert.Equal(LogLevel.Information, notice.Level);
            Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning);
            await WaitUntilAsync(() => log.Entries.Any(e => e.Level == LogLevel.Warning), WaitMax, "a warning once the grace ran out");
            Assert.True(clock.Elapsed >= grace, $"warned after {clock.Elapsed}, within the {grace} grace");
            await Task.Delay(600); // more failed attempts: still the one warning
            foreach (var entry in log.Entries) output.WriteLine($"{entry.Level}: {entry.Message}");
            Assert.Single(log.Entries, e => e.Level >= LogLevel.Warning);
            Assert.Single(log.Entries, e => e.Message.Contains("not reachable yet"));
        }
        finally
        {
            await stop.CancelAsync();
            await sending;
            await transport.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task PeerThatStops_SaysSo_AndIsAnInformationLine_NotAWarning_UntilItStaysAwayPastTheGrace()
    {
        // The dev cluster's Ctrl-C: its nodes stop one after another, and each sees the others go.
        var sink = new RecordingSink();
        var server = await PeerTestServer.StartAsync(2, sink);
        var log = new RecordingLogger();
        var grace = TimeSpan.FromSeconds(1.5);
        var options = new PeerTransportOptions { FirstContactGrace = grace, ReconnectDelayMax = TimeSpan.FromMilliseconds(200) };
        var transport = new PeerTransport(1, _ => server.Endpoint, options, log);
        using var stop = new CancellationTokenSource();
        // A replica keeps sending (heartbeats, retransmits), so the transport keeps trying while node 2 is down.
        var sending = Task.Run(async () =>
        {
            for (int i = 1; !stop.IsCancellationRequested; i++)
            {
                transport.Send(2, 1, Numbered(i));
                await Task.Delay(50);
            }
        });
        try
        {
            await WaitUntilAsync(() => transport.GetStats(2) is { BatchesAcked: > 0 }, WaitMax, "the stream to node 2 is open");
            await server.DisposeAsync(); // an orderly stop: the host's ApplicationStopping fires
            var stopped = Stopwatch.StartNew();
            try
            {
                await WaitUntilAsync(() => log.Entries.Any(e => e.Message.Contains("is stopping")), WaitMax, "node 2 said it is stopping");
                // The reconnects that fail while node 2 is gone, within the grace, must not warn either.
                await Task.Delay(grace / 2);
                Assert.Equal(LogLevel.Information, log.Entries.First(e => e.Message.Contains("is stopping")).Level);
                Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Warning);
                // Still away after the grace: one warning.
                await WaitUntilAsync(() => log.Entries.Any(e => e.Level >= LogLevel.Warning), WaitMax, "a warning once node 2 stayed away");
                Assert.True(stopped.Elapsed >= grace, $"warned {stopped.Elapsed} after the stop, within the {grace} grace");
                await Task.Delay(500);
                Assert.Single(log.Entries, e => e.Level >= LogLevel.Warning);
            }
            finally
            {
                foreach (var entry in log.Entries) output.WriteLine($"{entry.Level}: {entry.Message}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await sending;
            await transport.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> _entries = new();

        public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries => [.. _entries];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _entries.Enqueue((logLevel, formatter(state, exception), exception));
    }

    [Fact(Timeout = 30_000)]
    public async Task PeerHeardFrom_CutsAWaitingReconnectShort()
    {
        // A backoff far longer than the test: only being told the peer is alive can make it reconnect in time.
        int port = PeerTestServer.FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}");
        var options = new PeerTransportOptions { ReconnectDelayMin = TimeSpan.FromSeconds(60), ReconnectDelayMax = TimeSpan.FromSeconds(60) };
        var sink = new RecordingSink();
        var transport = new PeerTransport(1, _ => endpoint, options, _logger);
        PeerTestServer? server = null;
        try
        {
            Assert.True(transport.Send(2, 1, Numbered(1)));
            await WaitUntilAsync(() => transport.GetStats(2)!.Reconnects >= 0 && transport.GetStats(2)!.MessagesQueued <= 1, WaitMax, "a first attempt");
            await Task.Delay(300); // the first attempt fails; the connection now waits out its backoff
            server = await PeerTestServer.StartAsync(2, sink, port);
            // The first message died with the failed stream; this one waits in the queue for the retry.
            Assert.True(transport.Send(2, 1, Numbered(2)));
            await Task.Delay(300);
            Assert.Equal(0, sink.Count);

            var clock = Stopwatch.StartNew();
            transport.PeerHeard(2);
            await WaitUntilAsync(() => sink.Count == 1, TimeSpan.FromSeconds(10), "the message arrives after the wake-up");
            output.WriteLine($"delivered {clock.ElapsedMilliseconds} ms after the wake-up: {transport.GetStats(2)}");
        }
        finally
        {
            await transport.DisposeAsync();
            if (server is not null) await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task SlowReceiver_BoundsBatchesInFlight_AndTheQueueDropsTheExcess()
    {
        var options = new PeerTransportOptions { OutboundMessagesMax = 200, BatchMessagesMax = 10, UnackedBatchesMax = 2 };
        var sink = new RecordingSink(delayPerMessage: TimeSpan.FromMilliseconds(1));
        var server = await PeerTestServer.StartAsync(2, sink);
        var transport = new PeerTransport(1, _ => server.Endpoint, options, _logger);
        try
        {
            var accepted = new List<long>();
            for (long i = 0; i < 3_000; i++)
                if (transport.Send(2, (ulong)(i % 3), Numbered(i))) accepted.Add(i);

            var deadline = Stopwatch.StartNew();
            while (sink.Count < accepted.Count)
            {
                var stats = transport.GetStats(2)!;
                Assert.InRange(stats.UnackedBatches, 0, options.UnackedBatchesMax);
                Assert.InRange(stats.MessagesQueued, 0, options.OutboundMessagesMax + 1);
                Assert.True(deadline.Elapsed < WaitMax, "the slow receiver catches up");
                await Task.Delay(5);
            }

            var final = transport.GetStats(2)!;
            output.WriteLine(final.ToString());
            Assert.True(accepted.Count < 3_000, "a full queue refuses rather than grows");
            Assert.Equal(3_000 - accepted.Count, final.MessagesDropped);
            Assert.Equal(options.UnackedBatchesMax, final.UnackedBatchesPeak);
            Assert.Equal(accepted, sink.From(1).Select(d => Number(d.Message)));
        }
        finally
        {
            await transport.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task BatchForAnotherNode_IsRefused_AndNothingIsDelivered()
    {
        var sink = new RecordingSink();
        var server = await PeerTestServer.StartAsync(3, sink);
        var options = new PeerTransportOptions { ReconnectDelayMin = TimeSpan.FromMilliseconds(10), ReconnectDelayMax = TimeSpan.FromMilliseconds(50) };
        // Node 1's address book wrongly puts node 2 at node 3's address.
        var transport = new PeerTransport(1, _ => server.Endpoint, options, _logger);
        try
        {
            // A stream is reopened only for something to send, so keep a trickle going.
            var deadline = Stopwatch.StartNew();
            for (int i = 0; transport.GetStats(2) is not { Reconnects: >= 2 }; i++)
            {
                Assert.True(deadline.Elapsed < WaitMax, "the refused stream is retried");
                transport.Send(2, 1, Numbered(i));
                await Task.Delay(10);
            }
            var stats = transport.GetStats(2)!;
            output.WriteLine(stats.ToString());
            Assert.Equal(0, stats.BatchesAcked);
            Assert.Equal(0, sink.Count);
        }
        finally
        {
            await transport.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task OversizedMessage_IsDroppedAndCounted_TheOthersFlow()
    {
        var options = new PeerTransportOptions { BatchBytesMax = 1_000, MessageBytesMax = 1_000 };
        var sink = new RecordingSink();
        var server = await PeerTestServer.StartAsync(2, sink);
        var transport = new PeerTransport(1, _ => server.Endpoint, options, _logger);
        try
        {
            var huge = SlotValue.OfCommands([new Command(1, 1, new byte[2_000])]);
            Assert.True(transport.Send(2, 1, Numbered(1)));
            Assert.True(transport.Send(2, 1, new ChosenValues(1, 2, new Ballot(3, 1), [new ProposedSlot(2, huge)])));
            for (long i = 3; i < 20; i++) Assert.True(transport.Send(2, 1, Numbered(i)));

            await WaitUntilAsync(() => sink.Count == 18, WaitMax, "the small messages arrive");
            Assert.Equal([1L, .. Enumerable.Range(3, 17).Select(i => (long)i)], sink.From(1).Select(d => Number(d.Message)));
            var stats = transport.GetStats(2)!;
            Assert.Equal(1, stats.MessagesDropped);
            // The 18 messages (three carry 200-byte commands) encode to more than 1 000 bytes: at least two batches.
            Assert.True(stats.BatchesSent >= 2, $"batches closed on bytes ({stats.BatchesSent})");
        }
        finally
        {
            await transport.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Send_ToSelfThrows_AndAfterDisposeReturnsFalse()
    {
        var transport = new PeerTransport(1, _ => null, new PeerTransportOptions(), _logger);
        Assert.Throws<ArgumentException>(() => transport.Send(1, 1, Numbered(0)));
        Assert.True(transport.Send(2, 1, Numbered(0)));
        await transport.DisposeAsync();
        Assert.False(transport.Send(2, 1, Numbered(1)));
        Assert.False(transport.Send(3, 1, Numbered(2)));
        Assert.Null(transport.GetStats(3));
    }

    [Fact]
    public void Options_OutOfRange_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerTransportOptions { OutboundMessagesMax = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerTransportOptions { BatchBytesMax = 10, MessageBytesMax = 5 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PeerTransportOptions { ReconnectDelayMin = TimeSpan.FromSeconds(2), ReconnectDelayMax = TimeSpan.FromSeconds(1) }.Validate());
    }
}
