using Google.Protobuf;
using Kv.Proto.V1;

namespace Kv.Client.Tests;

/// <summary>
/// The transaction's client-side bookkeeping without a server: what a commit carries (writes, the versions read,
/// the spans scanned) and how a scan's pages are merged with the buffered writes.
/// </summary>
public sealed class TxnBufferTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static KvEntry Stored(string key, long version = 7) => new(B(key).Memory, B("stored " + key).Memory, new KvVersion(version, 0));

    private static string Show(KvEntry e) => $"{e.KeyString}={e.ValueString}";

    [Fact]
    public void Commit_CarriesTheLastWriteOfEachKey_TheFirstVersionReadOfEachKey_AndEachSpanOnce()
    {
        var buffer = new TxnBuffer();
        Assert.True(buffer.IsEmpty);
        buffer.Put(B("a"), B("1"));
        buffer.Put(B("b"), B("2"));
        buffer.Delete(B("a"));
        buffer.RecordRead(B("r"), new Timestamp { WallNanos = 5 });
        buffer.RecordRead(B("r"), new Timestamp { WallNanos = 5 });
        buffer.RecordPointRead(B("never"), null, null);
        buffer.RecordSpan(B("s"), B("t"));
        buffer.RecordSpan(B("s"), B("t"));
        buffer.RecordSpan(B("s"), ByteString.Empty);

        var request = new CommitTransactionRequest();
        buffer.CopyTo(request);

        Assert.Equal(["a:delete", "b=2"], request.Writes.Select(w => w.Delete ? $"{w.Key.ToStringUtf8()}:delete" : $"{w.Key.ToStringUtf8()}={w.Value.ToStringUtf8()}"));
        Assert.Equal(2, request.Reads.Count);
        Assert.Equal(5, request.Reads[0].Version.WallNanos);
        Assert.Null(request.Reads[1].Version); // saw no version: stays unset
        Assert.Equal(["s..t", "s.."], request.SpanReads.Select(s => $"{s.StartKey.ToStringUtf8()}..{s.EndKey.ToStringUtf8()}"));
        Assert.True(buffer.TryGetPointRead(B("never"), out var value, out var version) && value is null && version is null);
    }

    [Fact]
    public void WritesIn_KeepsTheSpan_InScanOrder()
    {
        var buffer = new TxnBuffer();
        foreach (var k in new[] { "d", "a", "c", "e", "b" }) buffer.Put(B(k), B(k));
        Assert.Equal(["b", "c", "d"], buffer.WritesIn(B("b").Span, B("e").Span, reverse: false).Select(w => w.Key.ToStringUtf8()));
        Assert.Equal(["e", "d", "c"], buffer.WritesIn(B("c").Span, default, reverse: true).Select(w => w.Key.ToStringUtf8()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merge_AddsPuts_ReplacesStoredValues_HidesDeletes_AcrossPages(bool reverse)
    {
        var buffer = new TxnBuffer();
        buffer.Put(B("k0"), B("new 0"));   // before every stored key
        buffer.Put(B("k3"), B("mine 3"));  // replaces a stored value
        buffer.Delete(B("k5"));            // hides a stored key
        buffer.Put(B("k6"), B("new 6"));   // between pages
        buffer.Delete(B("k7"));            // deletes a key that is not stored
        buffer.Put(B("k9"), B("new 9"));   // after every stored key
        var stored = new[] { "k1", "k2", "k3", "k5", "k8" }.Select(k => Stored(k)).ToList();
        if (reverse) stored.Reverse();
        var merger = new TxnScanMerger(buffer.WritesIn(default, default, reverse), reverse);

        var merged = new List<KvEntry>();
        foreach (var page in stored.Chunk(2)) merged.AddRange(merger.Page(page));
        merged.AddRange(merger.Rest());

        string[] expected = ["k0=new 0", "k1=stored k1", "k2=stored k2", "k3=mine 3", "k6=new 6", "k8=stored k8", "k9=new 9"];
        Assert.Equal(reverse ? expected.AsEnumerable().Reverse() : expected, merged.Select(Show));
        Assert.Equal(default, merged.Single(e => e.KeyString == "k3").Version); // this transaction's value: no version yet
        Assert.Equal(new KvVersion(7, 0), merged.Single(e => e.KeyString == "k1").Version);
    }

    [Fact]
    public void Merge_WithNothingStored_YieldsThePuts()
    {
        var buffer = new TxnBuffer();
        buffer.Put(B("b"), B("2"));
        buffer.Delete(B("c"));
        buffer.Put(B("a"), B("1"));
        var merger = new TxnScanMerger(buffer.WritesIn(default, default, reverse: false), reverse: false);
        Assert.Empty(merger.Page([]));
        Assert.Equal(["a=1", "b=2"], merger.Rest().Select(Show));
    }
}
