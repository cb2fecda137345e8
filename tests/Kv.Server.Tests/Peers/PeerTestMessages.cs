using Kv.Paxos;

namespace Kv.Server.Tests.Peers;

/// <summary>Numbered messages of mixed types and sizes, so that delivery order can be read back.</summary>
internal static class PeerTestMessages
{
    private static readonly ReadOnlyMemory<byte> Payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();

    /// <summary>Message number <paramref name="n"/>: every fifth an Accept with a 200-byte command, else a Heartbeat.</summary>
    public static PaxosMessage Numbered(long n) => n % 5 == 0
        ? new Accept(1, 2, new Ballot(3, 1), [new ProposedSlot(n, SlotValue.OfCommands([new Command(42, n, Payload)]))], 0, n)
        : new Heartbeat(1, 2, new Ballot(3, 1), n, 0, n);

    /// <summary>The number of a message made by <see cref="Numbered"/>.</summary>
    public static long Number(PaxosMessage m) => m switch
    {
        Accept a => a.Slots[0].Slot,
        Heartbeat h => h.Sequence,
        _ => throw new ArgumentException($"Not a numbered message: {m.GetType().Name}."),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(5);
        }
    }
}
