namespace Kv.Paxos;

/// <summary>
/// Deduplication of client commands for a replicated state machine: remembers, per client, the highest
/// sequence applied and its result, so that a command retried after a lost reply is applied once and answered
/// with the original result. It is part of the state machine (included in its snapshots), so every replica
/// makes the same decision.
/// </summary>
public sealed class SessionTable
{
    private readonly Dictionary<long, (long Sequence, byte[] Result)> _sessions = new();

    /// <summary>How many clients are remembered.</summary>
    public int Count => _sessions.Count;

    /// <summary>
    /// Decides whether to apply <paramref name="command"/>. Returns false for a duplicate (a sequence at or below
    /// the last applied one), giving the cached result when it is the last one.
    /// </summary>
    public bool ShouldApply(in Command command, out byte[]? cachedResult)
    {
        cachedResult = null;
        if (command.ClientId == 0) return true;
        if (_sessions.TryGetValue(command.ClientId, out var last) && command.Sequence <= last.Sequence)
        {
            if (command.Sequence == last.Sequence) cachedResult = last.Result;
            return false;
        }
        return true;
    }

    /// <summary>Records the result of an applied command.</summary>
    public void Record(in Command command, byte[] result)
    {
        if (command.ClientId != 0) _sessions[command.ClientId] = (command.Sequence, result);
    }

    /// <summary>Writes the table for a snapshot.</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_sessions.Count);
        foreach (var (client, (seq, result)) in _sessions.OrderBy(kv => kv.Key))
        {
            writer.Write(client);
            writer.Write(seq);
            writer.Write(result.Length);
            writer.Write(result);
        }
    }

    /// <summary>Replaces the table with one read from a snapshot.</summary>
    public void ReadFrom(BinaryReader reader)
    {
        _sessions.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            long client = reader.ReadInt64();
            long seq = reader.ReadInt64();
            byte[] result = reader.ReadBytes(reader.ReadInt32());
            _sessions[client] = (seq, result);
        }
    }
}
