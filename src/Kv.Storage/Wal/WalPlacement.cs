namespace Kv.Storage.Wal;

/// <summary>
/// Where a node database's write-ahead log goes (the data directory, RocksDB's default, or a separate directory:
/// RocksDB's wal_dir) and the checks that keep a WAL with its own database. RocksDB looks for the WAL only in wal_dir
/// and replays every *.log file it finds there, so on its own it would replay another database's WAL into this one
/// (a data directory replaced while the WAL directory stayed) and would drop this database's unflushed writes if the
/// WAL directory changed, or was not mounted, between two opens. Two small files prevent both: a marker in the
/// separate WAL directory naming the database it belongs to (the content of RocksDB's IDENTITY file), and a record
/// in the data directory naming the separate WAL directory the database uses. docs/storage-paxos.md, "WAL directory".
/// </summary>
internal sealed class WalPlacement
{
    /// <summary>The marker in a separate WAL directory: the IDENTITY of the database whose WAL it holds.</summary>
    public const string OwnerFileName = "KV-WAL-OWNER";

    /// <summary>The record in the data directory: the full path of the separate WAL directory in use.</summary>
    public const string RecordFileName = "KV-WAL-DIR";

    private const string IdentityFileName = "IDENTITY";

    private string? _identity;

    private WalPlacement(string dataDirectory, string directory, string? moveFrom, string? identity)
    {
        DataDirectory = dataDirectory;
        Directory = directory;
        MoveFrom = moveFrom;
        _identity = identity;
    }

    /// <summary>The data directory, as a full path.</summary>
    public string DataDirectory { get; }

    /// <summary>Where the WAL goes, as a full path: <see cref="DataDirectory"/> itself unless it is separate.</summary>
    public string Directory { get; }

    /// <summary>Whether the WAL goes to a directory of its own.</summary>
    public bool IsSeparate => Directory != DataDirectory;

    /// <summary>
    /// Where the database kept its WAL until now, when that is not <see cref="Directory"/> and holds writes: the
    /// database must be opened there and flushed before it opens with the new directory. Null when nothing moves.
    /// </summary>
    public string? MoveFrom { get; }

    /// <summary>
    /// Decides where the WAL of the database in <paramref name="dataDirectory"/> goes (<paramref name="walDirectory"/>,
    /// or the data directory when it is null or the same path) and refuses a WAL that belongs to another database or a
    /// WAL directory that lost this database's WAL. Creates the WAL directory; changes nothing else.
    /// </summary>
    /// <exception cref="WalDirectoryException">The WAL directory and the data directory do not go together.</exception>
    public static WalPlacement Check(string dataDirectory, string? walDirectory)
    {
        string data = FullPath(dataDirectory);
        string wanted = walDirectory is null ? data : FullPath(walDirectory);
        if (wanted != data) System.IO.Directory.CreateDirectory(wanted);
        string? identity = ReadLine(Path.Combine(data, IdentityFileName));
        if (identity is null)
        {
            // Even empty WAL files count: RocksDB refuses to create a database beside them.
            if (wanted != data && LogFiles(wanted).Length > 0)
                throw Foreign(data, wanted, "the data directory holds no database yet");
            return new WalPlacement(data, wanted, moveFrom: null, identity: null);
        }
        string previous = ReadLine(Path.Combine(data, RecordFileName)) is { } recorded ? FullPath(recorded) : data;
        if (previous != data) CheckHoldsOwnWal(data, previous, identity);
        if (wanted != data && wanted != previous && LogFiles(wanted).Length > 0)
        {
            // Even an empty WAL file marked as another database's: that database may be running and about to write there.
            string? owner = ReadLine(Path.Combine(wanted, OwnerFileName));
            if (owner is null ? HoldsWrites(wanted) : owner != identity) throw Foreign(data, wanted, OwnerMismatch(wanted, identity));
        }
        string? moveFrom = previous != wanted && HoldsWrites(previous) ? previous : null;
        return new WalPlacement(data, wanted, moveFrom, identity);
    }

    /// <summary>
    /// Before the database opens with <see cref="Directory"/>: marks the WAL directory as this database's (when the
    /// database exists already) and records it in the data directory, or removes the record when the WAL goes back to
    /// the data directory. Call it after any move (<see cref="MoveFrom"/>) is done: until then the record must keep
    /// naming the old place.
    /// </summary>
    public void ClaimBeforeOpen()
    {
        if (_identity is not null) MarkOwner();
        string record = Path.Combine(DataDirectory, RecordFileName);
        if (IsSeparate)
        {
            if (ReadLine(record) != Directory) WriteDurably(record, Directory);
        }
        else if (File.Exists(record))
        {
            File.Delete(record);
        }
    }

    /// <summary>
    /// After the database opened: marks a separate WAL directory with the identity of a database created just now.
    /// Nothing has written to the WAL yet, so a crash before this leaves only RocksDB's new, empty WAL file there,
    /// which <see cref="Check"/> accepts.
    /// </summary>
    public void ClaimAfterOpen()
    {
        if (_identity is not null) return;
        _identity = ReadLine(Path.Combine(DataDirectory, IdentityFileName));
        if (_identity is not null) MarkOwner();
    }

    /// <summary>
    /// Deletes the WAL files and the marker in <paramref name="walDirectory"/> if <paramref name="dataDirectory"/> holds
    /// no database: for a node that deliberately starts a new database in an emptied data directory (a restore). Returns
    /// how many WAL files it deleted; does nothing when the data directory holds a database or the WAL is not separate.
    /// </summary>
    public static int DiscardForNewDatabase(string dataDirectory, string walDirectory)
    {
        string data = FullPath(dataDirectory), wal = FullPath(walDirectory);
        if (wal == data || !System.IO.Directory.Exists(wal) || File.Exists(Path.Combine(data, IdentityFileName))) return 0;
        var logs = LogFiles(wal);
        foreach (var log in logs) log.Delete();
        File.Delete(Path.Combine(wal, OwnerFileName));
        return logs.Length;
    }

    private void MarkOwner()
    {
        string owner = Path.Combine(Directory, OwnerFileName);
        if (IsSeparate && ReadLine(owner) != _identity) WriteDurably(owner, _identity!);
    }

    /// <summary>
    /// The WAL directory the database last used must still hold its WAL: marked as this database's, or (the first open
    /// crashed before marking it) holding only RocksDB's new, empty WAL file. An empty or missing directory is most
    /// likely a device that is not mounted, and opening would lose every synced write not yet flushed.
    /// </summary>
    private static void CheckHoldsOwnWal(string data, string wal, string identity)
    {
        string? owner = ReadLine(Path.Combine(wal, OwnerFileName));
        if (owner == identity) return;
        if (owner is null && LogFiles(wal).Length > 0 && !HoldsWrites(wal)) return;
        if (HoldsWrites(wal)) throw Foreign(data, wal, OwnerMismatch(wal, identity));
        throw new WalDirectoryException(
            $"The database in '{data}' keeps its write-ahead log in '{wal}' (as recorded in {Path.Combine(data, RecordFileName)}), but that "
            + $"directory does not hold it (no {OwnerFileName} marker naming this database, no WAL files): is its device mounted? Opening "
            + "without it would lose every write not yet flushed. Mount it, or set the WAL directory back to it; only if its files are lost "
            + $"for good, delete {Path.Combine(data, RecordFileName)} to open the database without them.");
    }

    private static string OwnerMismatch(string wal, string identity) =>
        ReadLine(Path.Combine(wal, OwnerFileName)) is { } owner
            ? $"its {OwnerFileName} names database {owner}, the data directory holds database {identity}"
            : $"it has no {OwnerFileName} marker naming the database it belongs to";

    private static WalDirectoryException Foreign(string data, string wal, string why) => new(
        $"The WAL directory '{wal}' holds write-ahead log files (*.log) that do not belong to the database in the data directory '{data}' "
        + $"({why}); RocksDB would replay them into this database. If the data directory was deliberately emptied or replaced (a restore, "
        + $"a rebuilt node), stop the node, delete the *.log files in '{wal}' and start it again; otherwise give the node the data "
        + "directory that goes with this WAL directory.");

    /// <summary>Whether <paramref name="directory"/> holds a WAL file with anything in it.</summary>
    private static bool HoldsWrites(string directory) => LogFiles(directory).Any(f => f.Length > 0);

    private static FileInfo[] LogFiles(string directory) =>
        System.IO.Directory.Exists(directory)
            ? new DirectoryInfo(directory).GetFiles("*.log", new EnumerationOptions { MatchCasing = MatchCasing.CaseSensitive })
            : [];

    private static string FullPath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static string? ReadLine(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    /// <summary>Writes through a temporary file and a rename, so that a crash leaves the old content or the new, never a torn one.</summary>
    private static void WriteDurably(string path, string content)
    {
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(content));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
