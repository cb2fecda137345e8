using System.Diagnostics;
using System.Globalization;

namespace Kv.Server.Tests.Telemetry;

/// <summary>The node's span tags, read back as numbers.</summary>
internal static class SpanTags
{
    public static int NodeId(this Activity span) => Number(span, "kv.node_id");

    public static int RangeId(this Activity span) => Number(span, "kv.range_id");

    public static int Number(this Activity span, string tag) =>
        Convert.ToInt32(span.GetTagItem(tag) ?? throw new InvalidOperationException($"{span.DisplayName} has no tag {tag}"), CultureInfo.InvariantCulture);

    public static int Number(this ActivityEvent e, string tag) =>
        Convert.ToInt32(e.Tags.Single(t => t.Key == tag).Value, CultureInfo.InvariantCulture);
}
