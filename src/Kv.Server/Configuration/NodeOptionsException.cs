namespace Kv.Server.Configuration;

/// <summary>The node's settings could not be read or are invalid; lists every problem found, not just the first.</summary>
public sealed class NodeOptionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NodeOptionsException(IReadOnlyList<string> problems)
        : base("Invalid node settings:" + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>One sentence per problem, each naming the setting and where to set it.</summary>
    public IReadOnlyList<string> Problems { get; }
}
