using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Kv.Backup;
using Kv.Client;
using Kv.Proto.V1;

// bench/snapshots.sh's client side. Prints key=value facts on stdout, progress on stderr.
//   load   --endpoints URL,… --bytes N [--value-bytes 16384] [--clients 8]
//   create --endpoints URL,… --name NAME
//   export --endpoints URL,… --name NAME --dir DIR
//   check  --endpoints URL,… --bytes N [--value-bytes 16384]   (after a restore: a sample of keys reads back)
var options = ParseOptions(args.Skip(1));
string command = args.Length > 0 ? args[0] : "";
var endpoints = Option("endpoints").Split(',', StringSplitOptions.RemoveEmptyEntries);
int valueBytes = int.Parse(options.GetValueOrDefault("value-bytes", "16384"), CultureInfo.InvariantCulture);
switch (command)
{
    case "load":
        await LoadAsync(long.Parse(Option("bytes"), CultureInfo.InvariantCulture), int.Parse(options.GetValueOrDefault("clients", "8"), CultureInfo.InvariantCulture));
        break;
    case "create":
        await CreateAsync(Option("name"));
        break;
    case "export":
        await ExportAsync(Option("name"), Option("dir"));
        break;
    case "check":
        await CheckAsync(long.Parse(Option("bytes"), CultureInfo.InvariantCulture));
        break;
    default:
        Console.Error.WriteLine("usage: Kv.SnapshotBench load|create|export|check --endpoints URL,URL,URL …");
        return 2;
}
return 0;

string Option(string name) => options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

static Dictionary<string, string> ParseOptions(IEnumerable<string> args)
{
    var parsed = new Dictionary<string, string>();
    string? pending = null;
    foreach (var a in args)
    {
        if (pending is null && a.StartsWith("--", StringComparison.Ordinal)) pending = a[2..];
        else if (pending is not null) { parsed[pending] = a; pending = null; }
        else throw new ArgumentException($"unexpected '{a}'");
    }
    return parsed;
}

static string Key(long i) => $"bench/{i:D10}";

// Values are a function of the key, so that `check` can verify what it reads.
byte[] Value(long i)
{
    var value = new byte[valueBytes];
    new Random(unchecked((int)i * 7919)).NextBytes(value);
    return value;
}

async Task LoadAsync(long bytes, int clients)
{
    long keys = bytes / valueBytes;
    const int perBatch = 32;
    long next = 0, done = 0;
    var watch = Stopwatch.StartNew();
    await using var client = new KvClient(endpoints, new KvClientOptions { PerCallTimeout = TimeSpan.FromSeconds(30), OverallDeadline = TimeSpan.FromMinutes(2) });
    var report = Task.Run(async () =>
    {
        while (Interlocked.Read(ref done) < keys)
        {
            await Task.Delay(5_000);
            long d = Interlocked.Read(ref done);
            Console.Error.WriteLine($"[load] {d * (long)valueBytes >> 20} MiB of {bytes >> 20} MiB ({d * (double)valueBytes / 1048576 / watch.Elapsed.TotalSeconds:0.0} MiB/s)");
        }
    });
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        while (true)
        {
            long first = Interlocked.Add(ref next, perBatch) - perBatch;
            if (first >= keys) return;
            long last = Math.Min(first + perBatch, keys);
            var batch = new List<(ReadOnlyMemory<byte>, ReadOnlyMemory<byte>)>();
            for (long i = first; i < last; i++) batch.Add((System.Text.Encoding.UTF8.GetBytes(Key(i)), Value(i)));
            // Puts are idempotent here (a key's value depends only on the key), so a batch that failed in an
            // election is simply sent again.
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await client.PutManyAsync(batch);
                    break;
                }
                catch (KvException e) when (attempt < 20)
                {
                    Console.Error.WriteLine($"[load] batch at {Key(first)} failed ({e.Message.Split('\n')[0]}); retrying");
                    await Task.Delay(500);
                }
            }
            Interlocked.Add(ref done, last - first);
        }
    })));
    await report;
    Console.WriteLine($"load_keys={keys}");
    Console.WriteLine($"load_bytes={keys * valueBytes}");
    Console.WriteLine($"load_s={watch.Elapsed.TotalSeconds:0.0}");
}

async Task CreateAsync(string name)
{
    using var channel = GrpcChannel.ForAddress(endpoints[0]);
    var watch = Stopwatch.StartNew();
    var manifest = await new Snapshots.SnapshotsClient(channel).CreateAsync(new CreateSnapshotRequest { Name = name }, deadline: DateTime.UtcNow.AddMinutes(2));
    double ms = watch.Elapsed.TotalMilliseconds;
    Console.WriteLine($"create_ms={ms:0}");
    Console.WriteLine($"create_ranges={manifest.Ranges.Count}");
    Console.WriteLine($"create_size_bytes={manifest.Ranges.Sum(r => (long)r.ApproximateSizeBytes)}");
}

async Task ExportAsync(string name, string dir)
{
    var watch = Stopwatch.StartNew();
    var last = DateTime.MinValue;
    var manifest = await SnapshotExporter.ExportAsync(new Uri(endpoints[0]), name, dir, new InlineProgress(p =>
    {
        if (DateTime.UtcNow - last < TimeSpan.FromSeconds(5)) return;
        last = DateTime.UtcNow;
        Console.Error.WriteLine($"[export] {p.BytesDone >> 20} MiB, {p.FilesDone}/{p.FilesTotal} ranges");
    }));
    double s = watch.Elapsed.TotalSeconds;
    Console.WriteLine($"export_s={s:0.0}");
    Console.WriteLine($"export_bytes={manifest.TotalBytes}");
    watch.Restart();
    await BackupVerifier.VerifyAsync(dir);
    Console.WriteLine($"verify_s={watch.Elapsed.TotalSeconds:0.0}");
}

async Task CheckAsync(long bytes)
{
    long keys = bytes / valueBytes;
    await using var client = new KvClient(endpoints);
    var random = new Random(1);
    int checkedKeys = 0;
    var deadline = DateTime.UtcNow.AddSeconds(60);
    foreach (long i in Enumerable.Range(0, 200).Select(_ => random.NextInt64(keys)).Append(0).Append(keys - 1))
    {
        while (true)
        {
            try
            {
                var entry = await client.GetAsync(Key(i)) ?? throw new InvalidOperationException($"{Key(i)} is missing after the restore");
                if (!entry.Value.Span.SequenceEqual(Value(i))) throw new InvalidOperationException($"{Key(i)} has a different value after the restore");
                break;
            }
            catch (KvException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
        checkedKeys++;
    }
    Console.WriteLine($"check_keys={checkedKeys}");
}
