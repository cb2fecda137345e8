using Kv.Server.Peers;

namespace Kv.Server.Tests.Peers;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Delays_DoubleWithJitter_UpToTheMaximum_AndResetStartsOver()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100), new Random(7));
        double[] ceilingsMs = [10, 20, 40, 80, 100, 100, 100];
        foreach (double ceiling in ceilingsMs)
            Assert.InRange(backoff.Next().TotalMilliseconds, ceiling / 2, ceiling);

        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 5, 10);
    }

    [Fact]
    public void ManyFailures_StayAtTheMaximum()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2), new Random(1));
        for (int i = 0; i < 1_000; i++) Assert.InRange(backoff.Next().TotalMilliseconds, 0.5, 2_000);
    }
}
