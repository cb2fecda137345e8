namespace Kv.Simulation.Sim;

/// <summary>Runs one seed: its profile, its simulator, its checks. The same seed always gives the same run.</summary>
public static class SeedRunner
{
    public static SimulationResult Run(long seed, bool trace = false, Func<SimulationProfile, SimulationProfile>? adjust = null)
    {
        var profile = SimulationProfile.FromSeed(seed);
        if (adjust is not null) profile = adjust(profile);
        var simulator = new Simulator(seed, profile, trace);
        try
        {
            return simulator.Run();
        }
        catch (Exception e)
        {
            // A crash of the code under test is a finding like any other: report it with its seed.
            return new SimulationResult(seed, [$"EXCEPTION: {e}"], new FaultCounts(), simulator.TraceText, 0);
        }
    }

    public static string ReplayCommand(long seed) =>
        $"dotnet run -c Release --project tests/Kv.Simulation -- --seeds 1 --start {seed} --trace";
}
