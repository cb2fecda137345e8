using Kv.Load.Ycsb;

namespace Kv.Load.Tests;

public class LoadOptionsTests
{
    private static readonly string[] Base = ["--target", "kv", "--endpoints", "http://127.0.0.1:7001"];

    [Fact]
    public void Ycsb_flags_and_their_yscb_names_parse()
    {
        var o = LoadOptions.Parse([.. Base, "--op", "ycsb", "--workload", "e", "--distribution", "zipfian", "--record-count", "5000",
            "--duration", "7", "--warmup", "1", "--rate", "300", "--server-pids", "11,12,13", "--scan-length-max", "50"]);
        Assert.Same(OperationMix.E, o.Workload);
        Assert.Equal(KeyDistribution.Zipfian, o.Distribution);
        Assert.Equal(5000, o.Keys);
        Assert.Equal(7, o.Seconds);
        Assert.Equal(1, o.WarmupSeconds);
        Assert.Equal(300, o.RatePerSecond);
        Assert.Equal([11, 12, 13], o.ServerPids);
        Assert.Equal(50, o.ScanLengthMax);
    }

    [Fact]
    public void Bundle_calls_are_the_sdks_default_unless_given()
    {
        Assert.Null(LoadOptions.Parse([.. Base, "--op", "put"]).BundleCalls);
        Assert.Equal(0, LoadOptions.Parse([.. Base, "--op", "put", "--bundle-calls", "0"]).BundleCalls);
    }

    [Theory]
    [InlineData("--op ycsb", "--op ycsb needs --workload")]
    [InlineData("--op ycsb --workload d", "--workload 'd'")]
    [InlineData("--op put --workload a", "--workload goes with --op ycsb")]
    [InlineData("--op ycsb --workload a --distribution hot", "--distribution must be")]
    [InlineData("--op ycsb --workload a --seconds 5 --operations 10", "not both")]
    [InlineData("--op ycsb --workload a --duration 5 --seconds 6", "given twice")]
    [InlineData("--op transfer --rate 10", "--rate (open loop)")]
    [InlineData("--op ycsb --workload a --rate 0", "--rate '0'")]
    [InlineData("--op ycsb --workload a --server-pids x", "--server-pids 'x'")]
    [InlineData("--op put --bundle-calls -1", "--bundle-calls '-1'")]
    public void Bad_flags_are_named(string flags, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => LoadOptions.Parse([.. Base, .. flags.Split(' ')]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Etcd_has_no_ycsb()
    {
        var e = Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--target", "etcd", "--endpoints", "http://127.0.0.1:1", "--op", "ycsb", "--workload", "a"]));
        Assert.Contains("Kv only", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_split_keys_are_evenly_spaced()
    {
        Assert.Equal(["k00000250", "k00000500", "k00000750"], RecordLoader.SplitKeys(1000, 4));
    }
}
