using System.Text;
using Kv.Paxos;

namespace Kv.Simulation.Sim;

/// <summary>
/// The replicated key-value map the simulator runs on top of Paxos. Commands are "P\nkey\nvalue" puts; retried
/// commands are applied once through the <see cref="SessionTable"/>.
/// </summary>
public sealed class KvStateMachine
{
    private readonly Dictionary<string, string> _data = new(StringComparer.Ordinal);
    private readonly SessionTable _sessions = new();

    public long AppliedCommands { get; private set; }

    public static ReadOnlyMemory<byte> EncodePut(string key, string value) => Encoding.UTF8.GetBytes($"P\n{key}\n{value}");

    public string? Get(string key) => _data.TryGetValue(key, out var v) ? v : null;

    /// <summary>Applies one command; returns false when it was a duplicate of an applied one.</summary>
    public bool Apply(in Command command)
    {
        if (!_sessions.ShouldApply(command, out _)) return false;
        var parts = Encoding.UTF8.GetString(command.Payload.Span).Split('\n');
        if (parts.Length != 3 || parts[0] != "P") throw new InvalidOperationException("Unknown command in the log.");
        _data[parts[1]] = parts[2];
        _sessions.Record(command, []);
        AppliedCommands++;
        return true;
    }

    public byte[] TakeSnapshot()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(AppliedCommands);
            w.Write(_data.Count);
            foreach (var (k, v) in _data.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.Write(k);
                w.Write(v);
            }
            _sessions.WriteTo(w);
        }
        return ms.ToArray();
    }

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        _data.Clear();
        AppliedCommands = 0;
        if (snapshot.IsEmpty)
        {
            _sessions.ReadFrom(new BinaryReader(new MemoryStream([0, 0, 0, 0])));
            return;
        }
        using var r = new BinaryReader(new MemoryStream(snapshot.ToArray()), Encoding.UTF8);
        AppliedCommands = r.ReadInt64();
        int count = r.ReadInt32();
        for (int i = 0; i < count; i++) _data[r.ReadString()] = r.ReadString();
        _sessions.ReadFrom(r);
    }
}
