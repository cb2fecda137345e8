using Google.Protobuf;
using Kv.Server.Ranges;
using Microsoft.Extensions.Logging;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Replication;

/// <summary>
/// Carries out a split: reserves the new range's id in the meta range, proposes the split to the range's log
/// (where it takes effect, atomically, at one slot on every replica), then records both halves in the meta range.
/// If this node dies between the last two steps, meta lags until <see cref="ReconcileAsync"/> on the range's
/// leader repairs it; meanwhile every node routes right anyway, because replicas that applied the split answer
/// requests for keys they lost with the new descriptors.
/// </summary>
public sealed class RangeSplitter(RangeProposer proposer, RangeDirectory directory, ReplicaHost host, Kv.Storage.Meta.MetaStore meta, ILogger<RangeSplitter> logger)
{
    /// <summary>Splits the range holding <paramref name="splitKey"/> so that the key starts a new range.</summary>
    /// <exception cref="ArgumentException">The key is empty, or already starts its range.</exception>
    public async Task<(Wire.RangeDescriptor Left, Wire.RangeDescriptor Right)> SplitAsync(byte[] splitKey, CancellationToken cancellationToken)
    {
        if (splitKey.Length == 0) throw new ArgumentException("The split key must not be empty (it would start the key space).", nameof(splitKey));
        var id = await proposer.ProposeAsync(RangeIds.Meta, new Wire.RangeCommand { AllocateRangeIds = new Wire.MetaAllocateRangeIds { Count = 1 } },
            cancellationToken).ConfigureAwait(false);
        if (id.Error.Length > 0) throw new InvalidOperationException($"Could not reserve a range id: {id.Error}");
        for (int attempt = 0; ; attempt++)
        {
            var range = directory.Find(splitKey) ?? throw new InvalidOperationException("This node knows no range yet (not initialised).");
            if (range.StartKey.Span.SequenceEqual(splitKey))
                throw new ArgumentException($"The key already starts {Descriptors.Describe(range)}.", nameof(splitKey));
            var split = new Wire.RangeSplit { SplitKey = ByteString.CopyFrom(splitKey), NewRangeId = id.AllocatedId, ExpectedGeneration = range.Generation };
            var result = await proposer.ProposeAsync(range.RangeId, new Wire.RangeCommand { Split = split }, cancellationToken).ConfigureAwait(false);
            if (result.Error.Length == 0)
            {
                var (left, right) = (result.Descriptors[0], result.Descriptors[1]);
                directory.Update([left, right]);
                await RecordAsync([left, right], cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Split {Left} | {Right}", Descriptors.Describe(left), Descriptors.Describe(right));
                return (left, right);
            }
            // A concurrent split changed the range (stale generation, or the key is now in another range): this
            // node's directory learns of it from the replicas or meta in a moment; route again.
            if (attempt >= 20) throw new InvalidOperationException($"Could not split {Descriptors.Describe(range)}: {result.Error}");
            logger.LogDebug("Split of {Range} refused ({Error}); retrying", Descriptors.Describe(range), result.Error);
            await Task.Delay(50 * (attempt + 1), cancellationToken).ConfigureAwait(false);
            RefreshFromHost();
        }
    }

    /// <summary>
    /// For each range this node leads, makes sure the meta range has its current descriptor (a split whose meta
    /// update was lost to a crash is recorded here).
    /// </summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var stale = new List<Wire.RangeDescriptor>();
        foreach (var r in host.Replicas())
        {
            if (!r.IsLeader || r.RangeId == RangeIds.Meta) continue;
            ulong recorded = meta.TryGet(RangeStateKeys.DirectoryEntry(r.RangeId), out var bytes) ? Wire.RangeDescriptor.Parser.ParseFrom(bytes).Generation : 0;
            if (recorded < r.Descriptor.Generation) stale.Add(r.Descriptor);
        }
        if (stale.Count > 0)
        {
            logger.LogInformation("Recording {Count} range descriptor(s) missing from meta", stale.Count);
            await RecordAsync(stale, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RecordAsync(IReadOnlyList<Wire.RangeDescriptor> descriptors, CancellationToken cancellationToken)
    {
        var update = new Wire.MetaUpdate();
        update.Descriptors.AddRange(descriptors);
        var result = await proposer.ProposeAsync(RangeIds.Meta, new Wire.RangeCommand { MetaUpdate = update }, cancellationToken).ConfigureAwait(false);
        if (result.Error.Length > 0) throw new InvalidOperationException($"The meta range refused the update: {result.Error}");
    }

    private void RefreshFromHost() => directory.Update(host.Replicas().Where(r => r.RangeId != RangeIds.Meta).Select(r => r.Descriptor));
}
