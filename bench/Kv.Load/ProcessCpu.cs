using System.Globalization;

namespace Kv.Load;

/// <summary>
/// CPU seconds (user + system) used so far by processes of this machine, from <c>/proc/PID/stat</c> (fields 14 and
/// 15, utime and stime, in clock ticks of 100 per second on Linux). Used to put the servers' cost next to the
/// operations measured (<c>--server-pids</c>): what the load costs on a shared machine, whatever else runs.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>USER_HZ: the kernel reports utime and stime in 1/100 s on every Linux architecture.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds of each process, or null for one that is gone (or not on Linux).</summary>
    public static double?[] Sample(IReadOnlyList<int> pids)
    {
        var seconds = new double?[pids.Count];
        for (int i = 0; i < pids.Count; i++)
        {
            try
            {
                seconds[i] = ParseStat(File.ReadAllText($"/proc/{pids[i]}/stat"));
            }
            catch (IOException)
            {
                seconds[i] = null;
            }
            catch (UnauthorizedAccessException)
            {
                seconds[i] = null;
            }
        }
        return seconds;
    }

    /// <summary>utime + stime of one <c>/proc/PID/stat</c> line, in seconds.</summary>
    public static double ParseStat(string stat)
    {
        // The command name (field 2) is in parentheses and may itself hold spaces and parentheses: count fields from
        // the last ')'. After it come field 3 (state) onwards, so utime (14) and stime (15) are the 12th and 13th.
        int close = stat.LastIndexOf(')');
        if (close < 0) throw new FormatException("not a /proc/PID/stat line: no ')' after the command name");
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 13) throw new FormatException($"not a /proc/PID/stat line: {fields.Length} fields after the command name");
        long utime = long.Parse(fields[11], NumberStyles.Integer, CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], NumberStyles.Integer, CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }
}
