namespace Kv.Admin.Output;

/// <summary>How results are printed (<c>--output</c>).</summary>
public enum OutputFormat
{
    /// <summary>Readable tables (the default).</summary>
    Table,

    /// <summary>One JSON document per command, with the stable shapes in docs/admin.md.</summary>
    Json,

    /// <summary>For scripts: <c>get</c> prints the value alone; lists print tab-separated rows without a header.</summary>
    Raw,
}
