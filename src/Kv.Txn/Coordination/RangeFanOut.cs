using Google.Protobuf;
using Kv.Proto.V1;

namespace Kv.Txn.Coordination;

/// <summary>
/// Sends one command per range to the ranges that hold some keys, routing again when a range answers that a key
/// is outside it (it split after this node routed). Transaction commands are idempotent and all-or-nothing per
/// range, so sending the refused part again, regrouped, is safe.
/// </summary>
internal sealed class RangeFanOut(ITxnRanges ranges)
{
    private const int RouteAttemptsMax = 50;

    /// <summary>The range that holds <paramref name="key"/>, with its span.</summary>
    public (ulong RangeId, byte[] Start, byte[]? End) Locate(ByteString key) => ranges.Locate(key.Span);

    /// <summary>The items grouped by the range that holds their key now, in first-appearance order.</summary>
    public List<(ulong RangeId, List<T> Items)> Group<T>(IEnumerable<T> items, Func<T, ByteString> keyOf)
    {
        var groups = new List<(ulong RangeId, List<T> Items)>();
        foreach (var item in items)
        {
            ulong range = ranges.RangeOf(keyOf(item).Span);
            int at = groups.FindIndex(g => g.RangeId == range);
            if (at < 0) groups.Add((range, [item]));
            else groups[at].Items.Add(item);
        }
        return groups;
    }

    /// <summary>
    /// Proposes <paramref name="build"/>(items) to the range of each group, concurrently (or one after another
    /// when <paramref name="between"/> is given; it runs after each), and returns every group's result.
    /// </summary>
    public async Task<List<(List<T> Items, RangeCommandResult Result)>> ProposeAsync<T>(
        IReadOnlyList<T> items, Func<T, ByteString> keyOf, Func<List<T>, RangeCommand> build, CancellationToken cancellationToken,
        Func<int, ValueTask>? between = null, Func<T, bool>? fixedToRange = null)
    {
        var groups = Group(items, keyOf);
        if (between is null)
        {
            var results = await Task.WhenAll(groups.Select(g => ProposeGroupAsync(g.RangeId, g.Items, keyOf, build, fixedToRange, cancellationToken))).ConfigureAwait(false);
            return results.SelectMany(r => r).ToList();
        }
        var all = new List<(List<T>, RangeCommandResult)>();
        for (int i = 0; i < groups.Count; i++)
        {
            all.AddRange(await ProposeGroupAsync(groups[i].RangeId, groups[i].Items, keyOf, build, fixedToRange, cancellationToken).ConfigureAwait(false));
            await between(i).ConfigureAwait(false);
        }
        return all;
    }

    /// <summary>Proposes one command at the range that holds <paramref name="key"/>, following splits.</summary>
    public async Task<RangeCommandResult> ProposeAtAsync(ByteString key, RangeCommand command, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var result = await ranges.ProposeAsync(ranges.RangeOf(key.Span), command, cancellationToken).ConfigureAwait(false);
            if (!IsOutsideRange(result) || attempt >= RouteAttemptsMax) return result;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10 * attempt, 200)), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<List<(List<T> Items, RangeCommandResult Result)>> ProposeGroupAsync<T>(
        ulong rangeId, List<T> items, Func<T, ByteString> keyOf, Func<List<T>, RangeCommand> build, Func<T, bool>? fixedToRange,
        CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var result = await ranges.ProposeAsync(rangeId, build(items), cancellationToken).ConfigureAwait(false);
            if (!IsOutsideRange(result) || attempt >= RouteAttemptsMax) return [(items, result)];
            // Items cut at this range's old end cannot be sent elsewhere (the manifest named them as cut): give up.
            if (fixedToRange is not null && items.Any(fixedToRange)) return [(items, result)];
            // The range split since we routed: route its items again; they may now span two ranges.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10 * attempt, 200)), cancellationToken).ConfigureAwait(false);
            var regrouped = Group(items, keyOf);
            if (regrouped.Count == 1 && regrouped[0].RangeId == rangeId) continue;
            var parts = await Task.WhenAll(regrouped.Select(g => ProposeGroupAsync(g.RangeId, g.Items, keyOf, build, fixedToRange, cancellationToken))).ConfigureAwait(false);
            return parts.SelectMany(p => p).ToList();
        }
    }

    /// <summary>Whether the range refused the command because a key is no longer in it.</summary>
    public static bool IsOutsideRange(RangeCommandResult result) => result.Txn is null && result.Error.StartsWith("key outside range", StringComparison.Ordinal);
}
