namespace Kv.Paxos;

/// <summary>
/// One client command, opaque to Paxos. <see cref="ClientId"/> and <see cref="Sequence"/> identify it
/// so that the state machine can apply a retried command once (see <see cref="SessionTable"/>).
/// </summary>
/// <param name="ClientId">The issuing client; 0 for commands that need no deduplication.</param>
/// <param name="Sequence">Increases by one for every new command of that client; a retry reuses it.</param>
/// <param name="Payload">What the state machine applies.</param>
public readonly record struct Command(long ClientId, long Sequence, ReadOnlyMemory<byte> Payload)
{
    /// <summary>Compares content, not buffer identity, so that a value re-proposed after a copy is still equal.</summary>
    public bool ContentEquals(Command other) =>
        ClientId == other.ClientId && Sequence == other.Sequence && Payload.Span.SequenceEqual(other.Payload.Span);
}
