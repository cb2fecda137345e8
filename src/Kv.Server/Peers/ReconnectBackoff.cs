namespace Kv.Server.Peers;

/// <summary>
/// Delays between attempts to reach a peer: doubling from a minimum to a maximum, with "equal jitter" (a random
/// point in the upper half of the step) so that the nodes that lost the same peer do not retry in lockstep, while
/// a dead peer still costs at most one attempt per half maximum delay. Not thread-safe: one per sender loop.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan delayMin, TimeSpan delayMax, Random random)
{
    // Past this many doublings the cap applies anyway; the bound keeps Math.Pow finite.
    private const int DoublingsMax = 30;

    private int _failures;

    /// <summary>Starts over after the peer proved alive.</summary>
    public void Reset() => _failures = 0;

    /// <summary>The delay before the next attempt, counting one more failure.</summary>
    public TimeSpan Next()
    {
        double ceilingMs = Math.Min(delayMax.TotalMilliseconds, delayMin.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, DoublingsMax)));
        _failures++;
        return TimeSpan.FromMilliseconds(ceilingMs / 2 + random.NextDouble() * ceilingMs / 2);
    }
}
