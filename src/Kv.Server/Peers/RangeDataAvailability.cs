namespace Kv.Server.Peers;

/// <summary>What <see cref="IRangeDataSource.Check"/> found, and so how <see cref="RangeDataService"/> answers.</summary>
public enum RangeDataAvailability
{
    /// <summary>The node hosts the range and the span lies inside it: the data is served.</summary>
    Available = 0,

    /// <summary>The node does not host the range (never did, or it moved away): <c>NOT_FOUND</c>.</summary>
    RangeNotHosted = 1,

    /// <summary>
    /// The node hosts the range but cannot serve this span now (the span is not inside the range's bounds, or the
    /// replica is not in a state whose data is worth copying): <c>FAILED_PRECONDITION</c>.
    /// </summary>
    SpanUnavailable = 2,
}
