using System.Text;
using Kv.Client;

namespace Kv.Load.Ycsb;

/// <summary>
/// <c>--op ycsb</c>: one YCSB core-workload operation per call, against Kv through its SDK. Records are the key
/// space's keys <c>k00000000</c>… (written first by <c>--op load</c>); reads, updates, scans and read-modify-writes
/// pick their record with the <see cref="KeyChooser"/>; inserts write new records after the loaded ones. Each
/// kind is its own result variant (<see cref="OperationMix.KindNames"/>). A read-modify-write reads the record and
/// writes it back with compare-and-set on the version it read; when another writer got there first it reads again
/// (each lost race is counted in the variant's retries), up to <see cref="LoadOptions.MaxAttempts"/> attempts.
/// </summary>
internal sealed class YcsbWorkload : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly KeySpace _keys;
    private readonly KeyChooser _chooser;
    private readonly OperationMix _mix;
    private readonly int _scanLengthMax;
    private readonly int _attemptsMax;
    private long _nextInsert;

    public YcsbWorkload(LoadOptions options, KeySpace keys)
    {
        _keys = keys;
        _mix = options.Workload ?? throw new ArgumentException("--op ycsb needs --workload a|b|c|e|f");
        _chooser = new KeyChooser(options.Distribution, keys.Count);
        _scanLengthMax = options.ScanLengthMax;
        _attemptsMax = options.MaxAttempts;
        // Runs after one another must not insert the same records: start past the loaded ones, at a point the seed picks.
        _nextInsert = keys.Count + (long)(options.Seed & 0xFFFF) * 1_000_000;
        _client = new KvClient(options.Endpoints, new KvClientOptions
        {
            WriteLanes = Math.Clamp(options.Clients, 16, 1024),
            PerCallTimeout = TimeSpan.FromSeconds(5),
            OverallDeadline = TimeSpan.FromSeconds(10),
        });
    }

    public OperationMix Mix => _mix;

    public async Task<OperationOutcome> RunAsync(Random random, CancellationToken cancellationToken)
    {
        var kind = _mix.Pick(random.NextDouble());
        switch (kind)
        {
            case YcsbOperationKind.Read:
                await ReadAsync(_chooser.Next(random), cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, 0, (int)kind);
            case YcsbOperationKind.Update:
                await _client.PutAsync(_keys.Key(_chooser.Next(random)), _keys.Value, cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, 0, (int)kind);
            case YcsbOperationKind.Scan:
                await ScanAsync(_chooser.Next(random), random.Next(1, _scanLengthMax + 1), cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, 0, (int)kind);
            case YcsbOperationKind.Insert:
                long record = Interlocked.Increment(ref _nextInsert) - 1;
                await _client.PutAsync(Encoding.ASCII.GetBytes(KeySpace.Name(record)), _keys.Value, cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, 0, (int)kind);
            default:
                int lost = await ReadModifyWriteAsync(_chooser.Next(random), cancellationToken).ConfigureAwait(false);
                return new OperationOutcome(0, lost, (int)kind);
        }
    }

    private async Task<KvEntry> ReadAsync(int record, CancellationToken cancellationToken) =>
        await _client.GetAsync(_keys.Key(record), cancellationToken).ConfigureAwait(false)
        ?? throw new MissingKeyException(KeySpace.Name(record));

    private async Task ScanAsync(int record, int length, CancellationToken cancellationToken)
    {
        int seen = 0;
        var options = new KvScanOptions { Limit = length, PageSize = length };
        await foreach (var _ in _client.ScanAsync(_keys.Key(record), ReadOnlyMemory<byte>.Empty, options, cancellationToken).ConfigureAwait(false))
            seen++;
        // The scan starts at a loaded record, so it finds at least that one.
        if (seen == 0) throw new MissingKeyException(KeySpace.Name(record));
    }

    /// <summary>Returns how many compare-and-sets lost a race before one succeeded.</summary>
    private async Task<int> ReadModifyWriteAsync(int record, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            var entry = await ReadAsync(record, cancellationToken).ConfigureAwait(false);
            var result = await _client.CompareAndSetAsync(_keys.Key(record), KvCondition.Version(entry.Version), _keys.Value, cancellationToken)
                .ConfigureAwait(false);
            if (result.Succeeded) return attempt - 1;
            if (attempt >= _attemptsMax)
                throw new CasRetriesExhaustedException(KeySpace.Name(record), attempt);
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}

/// <summary>A read-modify-write lost the compare-and-set race on every attempt.</summary>
internal sealed class CasRetriesExhaustedException(string key, int attempts)
    : Exception($"read-modify-write of {key}: the compare-and-set lost to another writer {attempts} times in a row (--max-attempts)");
