using Kv.Storage.Encoding;
using RocksDbSharp;

namespace Kv.Storage.Mvcc;

/// <summary>
/// Builds SST files of committed MVCC versions for the data column family, to be ingested in one step
/// (<see cref="Ingest"/>): the fast path of a bulk load such as a restore, which skips the write-ahead log and the
/// memtables. Keys must come in strictly ascending user-key order, one version each.
/// </summary>
public sealed class MvccSstWriter : IDisposable
{
    private readonly SstFileWriter _writer;
    private byte[]? _lastKey;

    /// <summary>Creates the SST file <paramref name="path"/> (which must not exist).</summary>
    public MvccSstWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path)) throw new IOException($"'{path}' already exists; an SST file needs a new path.");
        _writer = new SstFileWriter(new EnvOptions(), new ColumnFamilyOptions());
        _writer.Open(path);
        Path = path;
    }

    /// <summary>The file being written.</summary>
    public string Path { get; }

    /// <summary>Versions added.</summary>
    public long Count { get; private set; }

    /// <summary>Adds the version of <paramref name="key"/> committed at <paramref name="timestamp"/> holding <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">A key not above the previous one, an empty or too long key, or a too long value.</exception>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Timestamp timestamp)
    {
        if (key.IsEmpty || key.Length > MvccStore.UserKeyBytesMax) throw new ArgumentException("The key is empty or too long.", nameof(key));
        if (value.Length > MvccStore.ValueBytesMax) throw new ArgumentException("The value is too long.", nameof(value));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timestamp, Timestamp.Zero);
        if (_lastKey is not null && key.SequenceCompareTo(_lastKey) <= 0)
            throw new ArgumentException($"Keys must ascend: {KeyText.Printable(key.ToArray())} follows {KeyText.Printable(_lastKey)}.", nameof(key));
        _lastKey = key.ToArray();
        int keyLength = KeyEncoding.EscapedLength(key) + KeyEncoding.CommittedSuffixLength;
        var record = new byte[keyLength + MvccValue.CommittedLength(value.Length)];
        int prefixLength = DataKeys.WritePrefix(key, record);
        DataKeys.WriteCommittedSuffix(timestamp, record.AsSpan(prefixLength));
        int valueLength = MvccValue.WriteCommitted(record, keyLength, tombstone: false, value);
        _writer.Put(record.AsSpan(0, keyLength).ToArray(), record.AsSpan(keyLength, valueLength).ToArray());
        Count++;
    }

    /// <summary>Finishes the file (call only if something was added: RocksDB refuses an empty SST file).</summary>
    public void Finish() => _writer.Finish();

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    /// <summary>
    /// Ingests finished files into the data column family in one step, moving them into the database (they must be
    /// on its file system, and must not overlap each other or hold keys the database has).
    /// </summary>
    public static void Ingest(NodeStore store, IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) return;
        store.Db.IngestExternalFiles([.. paths], new IngestExternalFileOptions().SetMoveFiles(true), store.Data);
    }
}
