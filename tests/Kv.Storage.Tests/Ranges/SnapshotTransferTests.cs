using Kv.Storage.Encoding;
using Kv.Storage.Ranges;
using RocksDbSharp;
using static Kv.Storage.Tests.Ranges.TestKeys;

namespace Kv.Storage.Tests.Ranges;

/// <summary>Both transfer paths (iterator chunks, SST files) move a range's data exactly and atomically.</summary>
public sealed class SnapshotTransferTests
{
    public enum Method { IteratorStream, SstFiles }

    public static TheoryData<Method, bool> MethodsAndBounds => new()
    {
        { Method.IteratorStream, false }, { Method.IteratorStream, true },
        { Method.SstFiles, false }, { Method.SstFiles, true },
    };

    /// <summary>Small limits so a few dozen pairs make several chunks and several files.</summary>
    private static RangeDataOps SmallOps(NodeStore store) => new(store) { ChunkBytesMax = 200, SstFileBytesMax = 300 };

    private static async Task<RangeTransferStats> TransferAsync(Method method, TempNodeStore source, TempNodeStore target, RangeSpan span)
    {
        var from = SmallOps(source.Store);
        var to = SmallOps(target.Store);
        if (method == Method.IteratorStream) return await to.InstallAsync(span, from.ReadSnapshotChunksAsync(span));
        var export = await from.ExportSstAsync(span, source.NewPath("export-" + Guid.NewGuid().ToString("N")));
        Assert.True(export.Files.Count > 1 || export.Total.PairCount < 10);
        return await to.InstallSstAsync(span, export.Directory);
    }

    [Theory]
    [MemberData(nameof(MethodsAndBounds))]
    public async Task Transfer_ReproducesSpanExactly_ReplacingTargetSpanOnly(Method method, bool unbounded)
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        var span = unbounded ? new RangeSpan(K("b"), []) : BToC;
        source.PutVersions("source", AroundBToC);
        // The target holds older data: some keys the source has, some it lacks (which must disappear).
        target.PutVersions("target", AroundBToC);
        target.PutVersions("target-only", K(0x62, 0x01), K("bb"), K(0xFF, 0xFF, 0xFF, 0xFF, 0xFF));
        target.Store.FlushAll(); // part of the old data in SST files, part in the memtable
        target.PutVersions("target-memtable", K("b"), K("bzzz"));
        var targetOutside = target.DumpData(span, inside: false);

        var stats = await TransferAsync(method, source, target, span);

        Assert.Equal(source.DumpData(span), target.DumpData(span));
        Assert.Equal(targetOutside, target.DumpData(span, inside: false));
        Assert.Equal(source.DumpData(span).Count, stats.PairCount);
    }

    [Fact]
    public async Task BothMethods_ProduceIdenticalTargets()
    {
        using var source = new TempNodeStore();
        using var viaStream = new TempNodeStore();
        using var viaSst = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        foreach (var target in new[] { viaStream, viaSst }) target.PutVersions("target", AroundBToC[3..9]);

        await TransferAsync(Method.IteratorStream, source, viaStream, BToC);
        await TransferAsync(Method.SstFiles, source, viaSst, BToC);

        Assert.Equal(viaStream.DumpData(), viaSst.DumpData());
        Assert.NotEmpty(viaSst.DumpData(BToC));
    }

    [Theory]
    [InlineData(Method.IteratorStream)]
    [InlineData(Method.SstFiles)]
    public async Task Transfer_EmptySourceSpan_EmptiesTargetSpan(Method method)
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", K("a"), K("c"));
        target.PutVersions("target", AroundBToC);
        var outside = target.DumpData(BToC, inside: false);

        var stats = await TransferAsync(method, source, target, BToC);

        Assert.Equal(0, stats.PairCount);
        Assert.Equal(outside, target.DumpData());
    }

    [Fact]
    public async Task IteratorStream_ChunksRespectChunkBytesMax_AndEndWithOneLastChunk()
    {
        using var source = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        var chunks = await SmallOps(source.Store).ReadSnapshotChunksAsync(BToC).ToListAsync();

        Assert.True(chunks.Count > 2);
        Assert.All(chunks, c => Assert.True(c.DataBytes <= 200 && c.HasValidChecksum));
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Index));
        Assert.Equal([chunks[^1]], chunks.Where(c => c.IsLast));
    }

    [Fact]
    public async Task IteratorStream_WritesAfterStreamStarted_AreNotIncluded()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("before", AroundBToC);
        var before = source.DumpData(BToC);

        var chunks = new List<RangeSnapshotChunk>();
        await using (var enumerator = SmallOps(source.Store).ReadSnapshotChunksAsync(BToC).GetAsyncEnumerator())
        {
            Assert.True(await enumerator.MoveNextAsync());
            chunks.Add(enumerator.Current);
            // Overwrite every key, add new ones, and drop the whole span, all after the stream started.
            source.PutVersions("after", AroundBToC);
            source.PutVersions("after-new", K("bb"), K(0x62, 0xFF, 0xFF, 0xFF, 0xFF));
            using (var batch = new WriteBatch())
            {
                source.Ops.DeleteRangeData(batch, BToC);
                source.Store.Db.Write(batch, source.Store.SyncWrite);
            }
            while (await enumerator.MoveNextAsync()) chunks.Add(enumerator.Current);
        }

        await SmallOps(target.Store).InstallAsync(BToC, chunks.ToAsyncEnumerable());
        Assert.Equal(before, target.DumpData(BToC));
    }

    [Fact]
    public async Task SstExport_WritesAfterExportStarted_AreNotIncluded()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("before", AroundBToC);
        var before = source.DumpData(BToC);
        // Progress is reported on the export's thread after each file: write into the span from there.
        var writer = new SynchronousProgress(_ => source.PutVersions("after", K("bb"), K("b")));

        var export = await SmallOps(source.Store).ExportSstAsync(BToC, source.NewPath("export"), writer);
        await SmallOps(target.Store).InstallSstAsync(BToC, export.Directory);

        Assert.True(writer.Calls > 1);
        Assert.Equal(before, target.DumpData(BToC));
    }

    [Fact]
    public async Task IteratorStream_CorruptedChunk_IsRejectedNamingRangeAndChunk_TargetUnchanged()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        target.PutVersions("target", AroundBToC);
        var targetBefore = target.DumpData();
        var chunks = await SmallOps(source.Store).ReadSnapshotChunksAsync(BToC).ToListAsync();
        Assert.True(chunks.Count > 2);
        chunks[2].Pairs[0].Value[0] ^= 0x01; // one flipped bit in a value

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(
            () => SmallOps(target.Store).InstallAsync(BToC, chunks.ToAsyncEnumerable()));

        Assert.Contains(BToC.ToString(), error.Message);
        Assert.Contains("chunk 2 ", error.Message);
        Assert.Equal(targetBefore, target.DumpData());
    }

    [Fact]
    public async Task IteratorStream_TruncatedReorderedOrForeignStreams_AreRejected()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        var ops = SmallOps(target.Store);
        var chunks = await SmallOps(source.Store).ReadSnapshotChunksAsync(BToC).ToListAsync();
        var wider = await SmallOps(source.Store).ReadSnapshotChunksAsync(RangeSpan.All).ToListAsync();

        var truncated = await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallAsync(BToC, chunks.SkipLast(1).ToAsyncEnumerable()));
        Assert.Contains("without its last chunk", truncated.Message);
        var swapped = chunks.ToList();
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        var reordered = await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallAsync(BToC, swapped.ToAsyncEnumerable()));
        Assert.Contains("chunk 1 arrived where chunk 0 was expected", reordered.Message);
        var foreign = await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallAsync(BToC, wider.ToAsyncEnumerable()));
        Assert.Contains("outside the range", foreign.Message);
        Assert.Empty(target.DumpData());
    }

    [Fact]
    public async Task IteratorStream_RangeAboveStagingLimit_IsRefusedBeforeWriting()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        target.PutVersions("target", AroundBToC);
        var before = target.DumpData();
        var ops = new RangeDataOps(target.Store) { InstallStagedBytesMax = 100 };

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => ops.InstallAsync(BToC, SmallOps(source.Store).ReadSnapshotChunksAsync(BToC)));
        Assert.Equal(before, target.DumpData());
    }

    [Fact]
    public async Task SstFiles_CorruptedFile_IsRejectedNamingRangeAndFile_TargetUnchanged()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        target.PutVersions("target", AroundBToC);
        var targetBefore = target.DumpData();
        var export = await SmallOps(source.Store).ExportSstAsync(BToC, source.NewPath("export"));
        Assert.True(export.Files.Count > 1);
        string victim = Path.Combine(export.Directory, export.Files[1].Name);
        byte[] bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 3] ^= 0x40;
        File.WriteAllBytes(victim, bytes);

        var error = await Assert.ThrowsAsync<StorageCorruptionException>(() => SmallOps(target.Store).InstallSstAsync(BToC, export.Directory));

        Assert.Contains(BToC.ToString(), error.Message);
        Assert.Contains($"file 1 ({export.Files[1].Name})", error.Message);
        Assert.Equal(targetBefore, target.DumpData());
    }

    [Fact]
    public async Task SstFiles_MissingFileOrManifest_IsRejected_TargetUnchanged()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        target.PutVersions("target", AroundBToC);
        var targetBefore = target.DumpData();
        var export = await SmallOps(source.Store).ExportSstAsync(BToC, source.NewPath("export"));
        var ops = SmallOps(target.Store);

        File.Delete(Path.Combine(export.Directory, export.Files[^1].Name));
        var missingFile = await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallSstAsync(BToC, export.Directory));
        Assert.Contains("is missing", missingFile.Message);
        File.WriteAllText(Path.Combine(export.Directory, "manifest.json"), "{\"SpanStartHex\":\"62\"");
        await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallSstAsync(BToC, export.Directory));
        File.Delete(Path.Combine(export.Directory, "manifest.json"));
        await Assert.ThrowsAsync<StorageCorruptionException>(() => ops.InstallSstAsync(BToC, export.Directory));

        Assert.Equal(targetBefore, target.DumpData());
    }

    [Fact]
    public async Task SstFiles_OneExport_InstallsOnTwoStores_AndStaysIntact()
    {
        using var source = new TempNodeStore();
        using var first = new TempNodeStore();
        using var second = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        first.PutVersions("first", AroundBToC);
        var export = await SmallOps(source.Store).ExportSstAsync(BToC, source.NewPath("export"));

        await SmallOps(first.Store).InstallSstAsync(BToC, export.Directory);
        await SmallOps(second.Store).InstallSstAsync(BToC, export.Directory);

        Assert.Equal(source.DumpData(BToC), first.DumpData(BToC));
        Assert.Equal(source.DumpData(BToC), second.DumpData());
        Assert.Equal(export.Files.Count + 1, Directory.GetFiles(export.Directory).Length); // files + manifest, nothing consumed
    }

    [Fact]
    public async Task SstFiles_ExportForAnotherSpan_IsRefused()
    {
        using var source = new TempNodeStore();
        source.PutVersions("source", AroundBToC);
        var export = await SmallOps(source.Store).ExportSstAsync(BToC, source.NewPath("export"));
        await Assert.ThrowsAsync<ArgumentException>(
            () => source.Ops.InstallSstAsync(new RangeSpan(K("b"), []), export.Directory));
        await Assert.ThrowsAsync<IOException>(() => source.Ops.ExportSstAsync(BToC, export.Directory));
    }

    [Fact]
    public async Task Install_CopiesValuesAsOpaqueBytes()
    {
        using var source = new TempNodeStore();
        using var target = new TempNodeStore();
        byte[] odd = [0x00, 0xFF, 0x00, 0x01, 0x80];
        source.Store.Db.Put(KeyEncoding.Committed(K("b"), new Timestamp(5, 0)), odd, source.Store.Data);
        source.Store.Db.Put(KeyEncoding.Staged(K(0x62, 0x00)), Array.Empty<byte>(), source.Store.Data);

        await target.Ops.InstallAsync(BToC, source.Ops.ReadSnapshotChunksAsync(BToC));

        Assert.Equal(odd, target.Store.Db.Get(KeyEncoding.Committed(K("b"), new Timestamp(5, 0)), target.Store.Data));
        Assert.Equal(source.DumpData(), target.DumpData());
    }

    /// <summary>An <see cref="IProgress{T}"/> that runs its action on the reporting thread (Progress&lt;T&gt; would post it).</summary>
    private sealed class SynchronousProgress(Action<RangeTransferStats> action) : IProgress<RangeTransferStats>
    {
        public int Calls { get; private set; }

        public void Report(RangeTransferStats value)
        {
            Calls++;
            action(value);
        }
    }
}
