using System.Text.RegularExpressions;

namespace Kv.Server.Ranges;

/// <summary>What a snapshot's id and name may be (both end up in meta keys and directory names).</summary>
public static partial class SnapshotIds
{
    /// <summary>A name an operator gives: 1 to 64 of letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>An id the coordinator picks: 32 lowercase hex digits.</summary>
    public static bool IsValid(string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>A fresh id.</summary>
    public static string New() => Guid.NewGuid().ToString("N");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex IdPattern();
}
