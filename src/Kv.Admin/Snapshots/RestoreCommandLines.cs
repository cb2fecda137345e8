using Kv.Admin.App;

namespace Kv.Admin.Snapshots;

/// <summary>The node command lines that start a cluster restored from a backup (docs/snapshots.md, "Restore").</summary>
public static class RestoreCommandLines
{
    /// <summary>
    /// One command per data directory, node ids 1, 2, … in their order. With <paramref name="peers"/> (as many as the
    /// directories) the lines are exact; without, <c>URLn</c> stands for node n's URL.
    /// </summary>
    public static IReadOnlyList<string> For(IReadOnlyList<string> dataDirectories, string backupDirectory, IReadOnlyList<(int Id, Uri Url)>? peers)
    {
        var members = peers?.Select(p => (p.Id, Url: p.Url.ToString().TrimEnd('/'))).ToArray()
            ?? [.. Enumerable.Range(1, dataDirectories.Count).Select(i => (Id: i, Url: $"URL{i}"))];
        string peerList = string.Join(',', members.Select(p => $"{p.Id}={p.Url}"));
        return [.. members.Select((p, i) => $"dotnet Kv.Server.dll node --node-id {p.Id} --listen {p.Url} --peers {peerList} "
            + $"--data-dir {Quote(dataDirectories[i])} --restore-from {Quote(backupDirectory)}")];
    }

    /// <summary>Parses <c>1=URL,2=URL</c>; there must be one member per data directory.</summary>
    public static IReadOnlyList<(int Id, Uri Url)> ParsePeers(string text, int dataDirectories)
    {
        var members = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item =>
        {
            int equals = item.IndexOf('=');
            if (equals <= 0 || !int.TryParse(item[..equals], out int id) || id <= 0)
                throw new UsageException($"--peers: '{item}' is not id=url (like 1=http://10.0.0.1:7000)");
            var url = GlobalOptions.ParseEndpoints(item[(equals + 1)..], "--peers");
            return (id, url[0]);
        }).ToArray();
        if (members.Length != dataDirectories)
            throw new UsageException($"--peers names {members.Length} members but {dataDirectories} --data-dir {(dataDirectories == 1 ? "was" : "were")} given; "
                + "give one data directory per member, in the same order");
        return members;
    }

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? $"'{path.Replace("'", "'\\''")}'" : path;
}
