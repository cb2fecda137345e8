// Turns the committed benchmark results into PNG charts (ScottPlot):
//   dotnet run -c Release --project bench/Kv.Charts -- [--results bench/results] [--out bench/results/charts] [--only ycsb|commit|etcd]
// Each chart is drawn only when its input is there; the tool says which it wrote and which it skipped.
using Kv.Charts;

string results = "bench/results", output = "bench/results/charts";
string? only = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--results" when i + 1 < args.Length: results = args[++i]; break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--only" when i + 1 < args.Length && args[i + 1] is "ycsb" or "commit" or "etcd": only = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}'");
            Console.Error.WriteLine("usage: Kv.Charts [--results DIR] [--out DIR] [--only ycsb|commit|etcd]");
            return 2;
    }
}
if (!Directory.Exists(results))
{
    Console.Error.WriteLine($"no results directory '{results}' (run from the repository root, or pass --results)");
    return 2;
}
Directory.CreateDirectory(output);
var written = new List<string>();
var skipped = new List<string>();
void Run(string name, Func<string, string, IEnumerable<string>> draw)
{
    if (only is not null && only != name) return;
    var files = draw(results, output).ToList();
    if (files.Count == 0) skipped.Add(name);
    written.AddRange(files);
}
Run("ycsb", YcsbCharts.Draw);
Run("commit", CommitProtocolCharts.Draw);
Run("etcd", EtcdCharts.Draw);
foreach (var f in written) Console.Error.WriteLine($"wrote {f}");
foreach (var s in skipped) Console.Error.WriteLine($"skipped {s}: its results are not in {results}");
return 0;
