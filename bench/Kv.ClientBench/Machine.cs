using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Kv.ClientBench;

/// <summary>Facts about this machine and CPU readings from /proc (Linux; empty or zero elsewhere).</summary>
internal static class Machine
{
    /// <summary>/proc's clock ticks per second (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static string LoadAverage() => Read("/proc/loadavg") is { } s ? string.Join(' ', s.Split(' ').Take(3)) : "";

    public static string CpuModel() =>
        Lines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";

    public static string MemoryGiB() =>
        Lines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) is { } line
            ? (long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)
            : "";

    public static string Kernel() => Read("/proc/sys/kernel/osrelease")?.Trim() ?? "";

    public static string Runtime() => $"{RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC"
        + $"{(GCSettings.LatencyMode == GCLatencyMode.Interactive ? " (concurrent)" : "")}";

    /// <summary>CPU seconds (user + system) used so far by <paramref name="pid"/>; 0 if it is gone.</summary>
    public static double ProcessCpuSeconds(int pid)
    {
        var stat = Read($"/proc/{pid}/stat");
        if (stat is null) return 0;
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>CPU seconds the whole machine has been busy (user, nice, system, irq, softirq, steal; every core).</summary>
    public static double MachineBusySeconds()
    {
        var cpu = Lines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        if (cpu is null) return 0;
        var f = cpu.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / TicksPerSecond;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string[] Lines(string path) => Read(path)?.Split('\n') ?? [];
}

/// <summary>CPU readings at the start of the measured phases, turned into cores at the end.</summary>
internal sealed class CpuWindow(IReadOnlyList<int> nodePids)
{
    private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly double _bench = Machine.ProcessCpuSeconds(Environment.ProcessId);
    private readonly double _nodes = nodePids.Sum(Machine.ProcessCpuSeconds);
    private readonly double _machine = Machine.MachineBusySeconds();

    public CpuUse End()
    {
        double wall = System.Diagnostics.Stopwatch.GetElapsedTime(_start).TotalSeconds;
        double bench = (Machine.ProcessCpuSeconds(Environment.ProcessId) - _bench) / wall;
        double nodes = (nodePids.Sum(Machine.ProcessCpuSeconds) - _nodes) / wall;
        double machine = (Machine.MachineBusySeconds() - _machine) / wall;
        return new CpuUse(wall, bench, nodes, machine, Math.Max(0, machine - bench - nodes));
    }
}
