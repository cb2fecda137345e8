namespace Kv.Admin.App;

/// <summary>kvctl's exit codes (docs/admin.md lists them).</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The operation failed (cluster unreachable, refused, timed out); stderr says what to do.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong: unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;

    /// <summary><c>get</c> found no value for the key.</summary>
    public const int NotFound = 3;

    /// <summary>Interrupted with Ctrl-C.</summary>
    public const int Interrupted = 130;
}
