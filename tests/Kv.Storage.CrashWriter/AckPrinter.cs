using System.Globalization;

namespace Kv.Storage.CrashWriter;

/// <summary>
/// Prints one <c>ACK &lt;id&gt;</c> line per durable batch straight to the stdout file descriptor: one write
/// call per line, no buffering, so a line the parent reads was printed after the batch was durable and a kill
/// can at most cut the line being written (the parent ignores incomplete lines).
/// </summary>
internal sealed class AckPrinter(Stream stdout)
{
    private readonly Lock _lock = new();

    public void Ack(long id) => Print(string.Create(CultureInfo.InvariantCulture, $"ACK {id}\n"));

    public void Print(string line)
    {
        lock (_lock)
        {
            stdout.Write(System.Text.Encoding.ASCII.GetBytes(line));
            stdout.Flush();
        }
    }
}
