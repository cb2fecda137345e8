using System.Diagnostics;
using System.Globalization;

namespace Kv.IdleRanges;

/// <summary>
/// Times the Paxos core alone on idle groups (<see cref="IdleGroups"/>): per simulated tick, every replica's Tick,
/// every replica's TakeReady, and the delivery of heartbeats and their acks. Prints the cost per range per tick
/// and what it comes to at the server's 100 ticks per second.
/// </summary>
internal static class CoreCommand
{
    private const double TicksPerSecond = 100; // Kv.Server's default 10 ms tick

    public static int Run(int ranges, int ticks)
    {
        var groups = new IdleGroups(ranges, seed: 1);
        groups.ElectAll();
        // Warm up (JIT tiers), then measure.
        RunTicks(groups, Math.Min(ticks, 500), out _, out _, out _);
        long messagesBefore = groups.MessagesDelivered;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        int gcBefore = GC.CollectionCount(0);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        RunTicks(groups, ticks, out var tick, out var ready, out var deliver);
        wall.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long messages = groups.MessagesDelivered - messagesBefore;
        double rangeTicks = (double)ranges * IdleGroups.Nodes * ticks; // replica-ticks
        double nsPerReplicaTick(TimeSpan t) => t.TotalMilliseconds * 1e6 / rangeTicks;
        double total = nsPerReplicaTick(tick + ready + deliver);
        // % of one core for all three nodes at 100 ticks/s: replicas × ticks/s × ns each.
        double pctAt100 = ranges * IdleGroups.Nodes * TicksPerSecond * total / 1e9 * 100;
        var inv = CultureInfo.InvariantCulture;
        Console.Error.WriteLine(string.Create(inv,
            $"core: {ranges} groups x 3 replicas, {ticks} ticks: {total:F0} ns per replica-tick (tick {nsPerReplicaTick(tick):F0}, TakeReady {nsPerReplicaTick(ready):F0}, deliver {nsPerReplicaTick(deliver):F0}), {messages / (double)ticks:F0} messages/tick, {allocated / rangeTicks:F0} B allocated per replica-tick; at {TicksPerSecond} ticks/s: {pctAt100:F2}% of one core for the 3 nodes"));
        Console.WriteLine(string.Create(inv, $"core_ns_per_replica_tick={total:F0}"));
        Console.WriteLine(string.Create(inv, $"core_ns_tick={nsPerReplicaTick(tick):F0}"));
        Console.WriteLine(string.Create(inv, $"core_ns_take_ready={nsPerReplicaTick(ready):F0}"));
        Console.WriteLine(string.Create(inv, $"core_ns_deliver={nsPerReplicaTick(deliver):F0}"));
        Console.WriteLine(string.Create(inv, $"core_messages_per_tick={messages / (double)ticks:F0}"));
        Console.WriteLine(string.Create(inv, $"core_bytes_per_replica_tick={allocated / rangeTicks:F0}"));
        Console.WriteLine(string.Create(inv, $"core_gen0_gcs={GC.CollectionCount(0) - gcBefore}"));
        Console.WriteLine(string.Create(inv, $"core_pct_at_100_ticks={pctAt100:F2}"));
        Console.WriteLine(string.Create(inv, $"core_cpu_vs_wall={cpu.TotalMilliseconds / wall.Elapsed.TotalMilliseconds:F2}"));
        return 0;
    }

    private static void RunTicks(IdleGroups groups, int ticks, out TimeSpan tick, out TimeSpan ready, out TimeSpan deliver)
    {
        tick = ready = deliver = TimeSpan.Zero;
        for (int t = 0; t < ticks; t++)
        {
            long a = Stopwatch.GetTimestamp();
            for (int n = 0; n < IdleGroups.Nodes; n++) groups.TickNode(n);
            long b = Stopwatch.GetTimestamp();
            for (int n = 0; n < IdleGroups.Nodes; n++) groups.TakeReadies(n);
            long c = Stopwatch.GetTimestamp();
            groups.Deliver();
            long d = Stopwatch.GetTimestamp();
            tick += Stopwatch.GetElapsedTime(a, b);
            ready += Stopwatch.GetElapsedTime(b, c);
            deliver += Stopwatch.GetElapsedTime(c, d);
        }
        if (groups.LeaderCount() != groups.Groups) throw new InvalidOperationException("a group lost its leader while idle");
    }
}
