namespace Kv.Server.Admin;

/// <summary>The bytes of every file under a node's data directory, as <c>du</c> would count them (apparent sizes).</summary>
internal static class DataDirectorySize
{
    /// <summary>Sums file sizes; files that RocksDB deletes while they are counted (compactions) are skipped.</summary>
    public static long Bytes(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", options))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // Compacted away between listing and reading its size.
            }
        }
        return total;
    }
}
