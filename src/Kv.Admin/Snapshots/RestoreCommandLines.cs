using Kv.Admin.App;

namespace Kv.Admin.Snapshots;

/// <summary>The node command lines that start a cluster restored from a backup (docs/snapshots.md, "Restore").</summary>
public static class RestoreCommandLines
{
    /// <summary>
    /// One command per data directory, node ids <paramref name="firstNodeId"/>, +1, … in their order. With
    /// <paramref name="peers"/> (which must name those ids) the lines are exact; without, <c>URLn</c> stands for node n's
    /// URL and the members are taken to be 1 to the highest id.
    /// </summary>
    public static IReadOnlyList<string> For(IReadOnlyList<string> dataDirectories, int firstNodeId, string backupDirectory,
        IReadOnlyList<(int Id, Uri Url)>? peers)
    {
        var members = peers?.Select(p => (p.Id, Url: p.Url.ToString().TrimEnd('/'))).ToArray()
            ?? [.. Enumerable.Range(1, firstNodeId + dataDirectories.Count - 1).Select(i => (Id: i, Url: $"URL{i}"))];
        string peerList = string.Join(',', members.Select(p => $"{p.Id}={p.Url}"));
        return [.. dataDirectories.Select((dir, i) =>
        {
            var member = members.First(m => m.Id == firstNodeId + i);
            return $"dotnet Kv.Server.dll node --node-id {member.Id} --listen {member.Url} --peers {peerList} "
                + $"--data-dir {Quote(dir)} --restore-from {Quote(backupDirectory)}";
        })];
    }

    /// <summary>Parses <c>1=URL,2=URL</c>; it must name every node the data directories are for.</summary>
    public static IReadOnlyList<(int Id, Uri Url)> ParsePeers(string text, int firstNodeId, int dataDirectories)
    {
        var members = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item =>
        {
            int equals = item.IndexOf('=');
            if (equals <= 0 || !int.TryParse(item[..equals], out int id) || id <= 0)
                throw new UsageException($"--peers: '{item}' is not id=url (like 1=http://10.0.0.1:7000)");
            var url = GlobalOptions.ParseEndpoints(item[(equals + 1)..], "--peers");
            return (id, url[0]);
        }).ToArray();
        var missing = Enumerable.Range(firstNodeId, dataDirectories).Where(id => members.All(m => m.id != id)).ToArray();
        if (missing.Length > 0)
            throw new UsageException($"--peers names no node {string.Join(", ", missing)}, but the --data-dir options are for nodes "
                + $"{firstNodeId}..{firstNodeId + dataDirectories - 1} (the first is --node-id, default 1); name every member in --peers");
        return members;
    }

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? $"'{path.Replace("'", "'\\''")}'" : path;
}
