using System.CommandLine;
using Kv.Admin.App;
using Kv.Admin.Data;
using Kv.Admin.Output;
using Kv.Client;

namespace Kv.Admin.Commands;

/// <summary><c>get</c>, <c>put</c>, <c>delete</c>, <c>scan</c>: quick inspection through the client SDK.</summary>
public sealed class DataCommands : ICommandSet
{
    /// <summary>Entries <c>scan</c> prints when no <c>--limit</c> is given.</summary>
    public const int ScanDefaultLimit = 100;

    /// <inheritdoc />
    public IEnumerable<Command> Build(KvctlApp app) => [Get(app), Put(app), Delete(app), Scan(app)];

    /// <summary>The JSON shape of a version: hybrid logical clock time of the write.</summary>
    public sealed record VersionDocument(long WallNanos, int Logical);

    /// <summary>The JSON shape of one entry (<c>get</c>, <c>scan</c>'s <c>entries</c>).</summary>
    public sealed record EntryDocument(string Key, bool Found, string? Value, VersionDocument? Version);

    private static Command Get(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var command = new Command("get", $"Print the value of KEY (exit code {ExitCodes.NotFound} when it has none)") { key };
        app.SetAction(command, async (run, ct) =>
        {
            var encoding = run.Settings.Encoding;
            var keyBytes = KeyArgument(run.Get(key), encoding);
            var entry = await run.Client.GetAsync(keyBytes, ct).ConfigureAwait(false);
            var document = new EntryDocument(ByteCodec.Format(keyBytes, encoding), entry is not null,
                entry is null ? null : ByteCodec.Format(entry.Value.Span, encoding), entry is null ? null : Version(entry.Version));
            switch (run.Out.Format)
            {
                case OutputFormat.Json:
                    run.Out.Json(document);
                    break;
                case OutputFormat.Raw:
                    if (entry is not null) run.Terminal.Out.WriteLine(document.Value);
                    break;
                default:
                    if (entry is not null)
                        run.Out.Write(document, new TableView(["KEY", "VALUE", "VERSION"],
                            [[ByteCodec.Display(keyBytes, encoding), ByteCodec.Display(entry.Value.Span, encoding), Display(entry.Version)]]));
                    break;
            }
            if (entry is not null) return ExitCodes.Ok;
            await run.Terminal.Error.WriteLineAsync($"kvctl get: key {ByteCodec.Display(keyBytes, encoding)} not found").ConfigureAwait(false);
            return ExitCodes.NotFound;
        });
        return command;
    }

    private static Command Put(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value" };
        var command = new Command("put", "Write VALUE at KEY") { key, value };
        app.SetAction(command, async (run, ct) =>
        {
            var encoding = run.Settings.Encoding;
            var keyBytes = KeyArgument(run.Get(key), encoding);
            var valueBytes = ByteCodec.Parse(run.Get(value), encoding, "value");
            var version = await run.Client.PutAsync(keyBytes, valueBytes, ct).ConfigureAwait(false);
            run.Out.Write(new { key = ByteCodec.Format(keyBytes, encoding), version = Version(version) },
                $"OK {ByteCodec.Display(keyBytes, encoding)} (version {Display(version)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Delete(KvctlApp app)
    {
        var key = new Argument<string>("key") { Description = "The key" };
        var command = new Command("delete", "Delete KEY (succeeds also when it had no value; the output says which)") { key };
        app.SetAction(command, async (run, ct) =>
        {
            var encoding = run.Settings.Encoding;
            var keyBytes = KeyArgument(run.Get(key), encoding);
            bool existed = await run.Client.DeleteAsync(keyBytes, ct).ConfigureAwait(false);
            run.Out.Write(new { key = ByteCodec.Format(keyBytes, encoding), deleted = existed },
                existed ? $"deleted {ByteCodec.Display(keyBytes, encoding)}" : $"{ByteCodec.Display(keyBytes, encoding)} had no value");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Scan(KvctlApp app)
    {
        var prefix = new Option<string?>("--prefix") { Description = "Only keys starting with PREFIX" };
        var from = new Option<string?>("--from") { Description = "First key (inclusive); default: the first key" };
        var to = new Option<string?>("--to") { Description = "End key (exclusive); default: past the last key" };
        var limit = new Option<int>("--limit")
        {
            Description = $"Entries to print at most (default {ScanDefaultLimit}; 0 for all)",
            DefaultValueFactory = _ => ScanDefaultLimit,
        };
        var reverse = new Option<bool>("--reverse") { Description = "Descending key order" };
        var command = new Command("scan", "List entries by key: a prefix, or a span [--from, --to)") { prefix, from, to, limit, reverse };
        app.SetAction(command, async (run, ct) =>
        {
            var encoding = run.Settings.Encoding;
            int max = run.Get(limit);
            if (max < 0) throw new UsageException($"--limit must be 0 (all) or more, got {max}");
            var (start, end) = ScanSpan(run.Get(prefix), run.Get(from), run.Get(to), encoding);
            var entries = new List<KvEntry>();
            // One more than asked, to tell the reader that there are more.
            var options = new KvScanOptions { Reverse = run.Get(reverse), Limit = max == 0 ? 0 : max + 1 };
            await foreach (var entry in run.Client.ScanAsync(start, end, options, ct).ConfigureAwait(false)) entries.Add(entry);
            bool more = max > 0 && entries.Count > max;
            if (more) entries.RemoveAt(entries.Count - 1);
            var documents = entries.Select(e => new EntryDocument(ByteCodec.Format(e.Key.Span, encoding), true, ByteCodec.Format(e.Value.Span, encoding), Version(e.Version)))
                .ToArray();
            var rows = run.Out.Format == OutputFormat.Raw
                ? documents.Select(d => (IReadOnlyList<string>)[d.Key, d.Value!]).ToArray()
                : entries.Select(e => (IReadOnlyList<string>)[ByteCodec.Display(e.Key.Span, encoding), ByteCodec.Display(e.Value.Span, encoding), Display(e.Version)]).ToArray();
            run.Out.Write(new { entries = documents, count = documents.Length, more },
                new TableView(["KEY", "VALUE", "VERSION"], rows,
                    $"{entries.Count} {(entries.Count == 1 ? "entry" : "entries")}" + (more ? $" (more: --limit N for more, --limit 0 for all)" : "")));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The [start, end) of a scan from its options; <see cref="UsageException"/> when they conflict.</summary>
    internal static (byte[] Start, byte[] End) ScanSpan(string? prefix, string? from, string? to, ByteEncoding encoding)
    {
        if (prefix is not null)
        {
            if (from is not null || to is not null) throw new UsageException("give either --prefix or --from/--to, not both");
            var p = ByteCodec.Parse(prefix, encoding, "prefix");
            if (p.Length == 0) throw new UsageException("--prefix must not be empty; leave it out to scan every key");
            return (p, ByteCodec.PrefixEnd(p));
        }
        var start = from is null ? [] : ByteCodec.Parse(from, encoding, "--from key");
        var end = to is null ? [] : ByteCodec.Parse(to, encoding, "--to key");
        if (end.Length > 0 && start.AsSpan().SequenceCompareTo(end) >= 0)
            throw new UsageException($"--from must sort before --to (the span [--from, --to) is empty)");
        return (start, end);
    }

    private static byte[] KeyArgument(string text, ByteEncoding encoding)
    {
        var key = ByteCodec.Parse(text, encoding, "key");
        return key.Length > 0 ? key : throw new UsageException("the key must not be empty");
    }

    private static VersionDocument Version(KvVersion v) => new(v.WallNanos, v.Logical);

    /// <summary>A version for tables: its wall time in UTC, and the logical counter when it is not 0.</summary>
    internal static string Display(KvVersion v) =>
        DateTime.UnixEpoch.AddTicks(v.WallNanos / 100).ToString("yyyy-MM-dd HH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture)
        + (v.Logical != 0 ? $" +{v.Logical}" : "");
}
