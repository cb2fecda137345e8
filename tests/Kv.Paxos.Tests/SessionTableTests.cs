namespace Kv.Paxos.Tests;

public class SessionTableTests
{
    [Fact]
    public void RetriedCommand_IsAppliedOnce_AndGetsTheOriginalResult()
    {
        var t = new SessionTable();
        var first = new Command(7, 1, new byte[] { 1 });
        Assert.True(t.ShouldApply(first, out _));
        t.Record(first, [42]);
        Assert.False(t.ShouldApply(first, out var cached));
        Assert.Equal(new byte[] { 42 }, cached);
        Assert.False(t.ShouldApply(new Command(7, 0, default), out _)); // older than the last applied
        Assert.True(t.ShouldApply(new Command(7, 2, default), out _));
        Assert.True(t.ShouldApply(new Command(0, 1, default), out _)); // client 0 opts out of deduplication
    }

    [Fact]
    public void Table_SurvivesASnapshotRoundTrip()
    {
        var t = new SessionTable();
        t.Record(new Command(3, 9, default), [1, 2]);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) t.WriteTo(w);
        ms.Position = 0;
        var copy = new SessionTable();
        copy.ReadFrom(new BinaryReader(ms));
        Assert.False(copy.ShouldApply(new Command(3, 9, default), out var cached));
        Assert.Equal(new byte[] { 1, 2 }, cached);
    }
}
