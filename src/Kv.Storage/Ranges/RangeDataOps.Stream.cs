using System.Runtime.CompilerServices;
using RocksDbSharp;

namespace Kv.Storage.Ranges;

/// <summary>Snapshot transfer by iterator streaming: chunks out of one store, one atomic batch into another.</summary>
public sealed partial class RangeDataOps
{
    /// <summary>
    /// Reads the span's data as checksummed chunks of at most <see cref="ChunkBytesMax"/> bytes, all from one
    /// RocksDB snapshot taken on the first <c>MoveNextAsync</c>: writes made after that are not included.
    /// Disposing the enumerator (as <c>await foreach</c> does) releases the snapshot and iterator; it must
    /// happen before the store is disposed.
    /// </summary>
    /// <param name="span">The range's user keys.</param>
    /// <param name="progress">Told the running totals after each chunk.</param>
    /// <param name="cancellationToken">Stops the enumeration between pairs.</param>
    public async IAsyncEnumerable<RangeSnapshotChunk> ReadSnapshotChunksAsync(
        RangeSpan span,
        IProgress<RangeTransferStats>? progress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var encoded = new EncodedSpan(span);
        using var snapshot = Store.Db.CreateSnapshot();
        using var iterator = Store.Db.NewIterator(Store.Data, encoded.NewReadOptions(snapshot));
        var pairs = new List<KeyValuePair<byte[], byte[]>>();
        long chunkBytes = 0;
        int index = 0;
        var total = new RangeTransferStats();
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] key = iterator.Key();
            byte[] value = iterator.Value();
            if (pairs.Count > 0 && chunkBytes + key.Length + value.Length > ChunkBytesMax)
            {
                yield return RangeSnapshotChunk.Create(index++, isLast: false, pairs);
                progress?.Report(total);
                // The consumer may hold on to the chunk, so the next one gets a fresh list.
                pairs = [];
                chunkBytes = 0;
            }
            pairs.Add(new(key, value));
            chunkBytes += key.Length + value.Length;
            total = total.Add(key.Length, value.Length);
        }
        EncodedSpan.ThrowIfFailed(iterator, $"reading a snapshot of range {span}");
        yield return RangeSnapshotChunk.Create(index, isLast: true, pairs);
        progress?.Report(total);
    }

    /// <summary>
    /// Replaces the span's data with the chunks of <see cref="ReadSnapshotChunksAsync"/> from another store.
    /// Every chunk is verified on arrival (checksum, index sequence, keys ascending and inside the span, and a
    /// final chunk present) and staged in one <see cref="WriteBatch"/> that starts with the span's range
    /// tombstone; nothing is written until the stream has been verified to its end, and then everything is
    /// written in one synced write. So a reader sees the old data or the new, never a mix, a crash leaves one
    /// or the other, and a rejected stream leaves the store unchanged. The price is memory: the whole range
    /// is staged, at most <see cref="InstallStagedBytesMax"/> bytes (larger ranges must use
    /// <see cref="InstallSstAsync"/>).
    /// </summary>
    /// <param name="span">The range's user keys; must be the span the chunks were read from.</param>
    /// <param name="chunks">The received stream.</param>
    /// <param name="progress">Told the running totals after each verified chunk.</param>
    /// <param name="cancellationToken">Abandons the install before the write; the store is then unchanged.</param>
    /// <returns>What was installed.</returns>
    /// <exception cref="StorageCorruptionException">A chunk failed verification; the message names the range and chunk.</exception>
    /// <exception cref="InvalidOperationException">The range exceeds <see cref="InstallStagedBytesMax"/>.</exception>
    public async Task<RangeTransferStats> InstallAsync(
        RangeSpan span,
        IAsyncEnumerable<RangeSnapshotChunk> chunks,
        IProgress<RangeTransferStats>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var verifier = new SnapshotChunkVerifier(new EncodedSpan(span));
        using var batch = new WriteBatch();
        // First in the batch: the later puts get higher sequence numbers, so the tombstone does not cover them.
        DeleteRangeData(batch, span);
        await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            verifier.Accept(chunk);
            if (verifier.Total.DataBytes > InstallStagedBytesMax)
                throw new InvalidOperationException(
                    $"Range {span} holds more than InstallStagedBytesMax = {InstallStagedBytesMax} bytes; install it from SST files.");
            foreach (var pair in chunk.Pairs) batch.Put(pair.Key, pair.Value, Store.Data);
            progress?.Report(verifier.Total);
        }
        verifier.Complete();
        cancellationToken.ThrowIfCancellationRequested();
        // A synced write of up to hundreds of MB blocks; keep it off the caller's thread.
        await Task.Run(() => Store.Db.Write(batch, Store.SyncWrite), CancellationToken.None).ConfigureAwait(false);
        return verifier.Total;
    }
}
