namespace Kv.Txn.Checker.Tests.Workload;

/// <summary>
/// A toy multi-version store of lists that can be run correctly or broken. Every transaction reads from a snapshot
/// taken when it begins and buffers its writes until commit. With <c>validateAtCommit</c> it is optimistic
/// concurrency control: a commit aborts if any key it touched changed since its snapshot, which makes it serializable
/// (commit order is a serial order). Without it, commits overwrite blindly: snapshot isolation minus the
/// first-committer-wins rule, so lost updates and write skew get through.
/// </summary>
internal sealed class InMemoryListDatabase(bool validateAtCommit)
{
    // Every write stores a new array, so "changed since the snapshot" is a reference comparison.
    private readonly Dictionary<string, long[]> _committed = new(StringComparer.Ordinal);

    public ListTransaction Begin() => new(this, new Dictionary<string, long[]>(_committed, StringComparer.Ordinal));

    private bool TryCommit(ListTransaction txn)
    {
        if (validateAtCommit)
        {
            foreach (string key in txn.Touched)
            {
                txn.Snapshot.TryGetValue(key, out var seen);
                _committed.TryGetValue(key, out var now);
                if (!ReferenceEquals(seen, now)) return false;
            }
        }
        foreach (var (key, list) in txn.Writes) _committed[key] = list;
        return true;
    }

    /// <summary>One transaction; a client reads, writes whole lists, then commits or walks away.</summary>
    internal sealed class ListTransaction
    {
        private readonly InMemoryListDatabase _database;

        public ListTransaction(InMemoryListDatabase database, Dictionary<string, long[]> snapshot)
        {
            _database = database;
            Snapshot = snapshot;
        }

        public Dictionary<string, long[]> Snapshot { get; }

        public Dictionary<string, long[]> Writes { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Touched { get; } = new(StringComparer.Ordinal);

        public long[] Read(string key)
        {
            Touched.Add(key);
            if (Writes.TryGetValue(key, out long[]? own)) return own;
            return Snapshot.TryGetValue(key, out long[]? list) ? list : [];
        }

        public void Write(string key, long[] list)
        {
            Touched.Add(key);
            Writes[key] = list;
        }

        /// <summary>True if committed, false if the database aborted it.</summary>
        public bool Commit() => _database.TryCommit(this);
    }
}
