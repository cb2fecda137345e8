using System.Globalization;
using System.Text;

namespace Kv.Load;

/// <summary>One sample of a Prometheus text-format scrape: a series (name and labels) and its value.</summary>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// The samples of one node's <c>/metrics</c> page (Prometheus text exposition format 0.0.4): enough of the format for
/// counters and histograms (<c># HELP</c>/<c># TYPE</c> lines skipped, labels with escaped quotes, optional
/// timestamps, <c>+Inf</c>/<c>NaN</c>). No new dependency: a scrape is a few hundred lines.
/// </summary>
internal sealed class MetricsScrape
{
    private readonly List<MetricSample> _samples;

    private MetricsScrape(List<MetricSample> samples) => _samples = samples;

    /// <summary>Every sample, in page order.</summary>
    public IReadOnlyList<MetricSample> Samples => _samples;

    /// <summary>Parses a page; throws <see cref="FormatException"/> naming the line that is not a sample.</summary>
    public static MetricsScrape Parse(string text)
    {
        var samples = new List<MetricSample>();
        int lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            samples.Add(ParseLine(line) ?? throw new FormatException($"metrics line {lineNumber} is not a sample: '{line}'"));
        }
        return new MetricsScrape(samples);
    }

    /// <summary>The sum of every sample named <paramref name="name"/> whose labels include all of <paramref name="labels"/> (0 if none).</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).Sum(s => s.Value);

    private static MetricSample? ParseLine(string line)
    {
        int nameEnd = line.IndexOfAny(['{', ' ', '\t']);
        if (nameEnd <= 0) return null;
        string name = line[..nameEnd];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = nameEnd;
        if (line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && (line[i] == ' ' || line[i] == ',')) i++;
                if (i >= line.Length) return null;
                if (line[i] == '}') { i++; break; }
                int eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"') return null;
                string label = line[i..eq].Trim();
                var value = new StringBuilder();
                i = eq + 2;
                for (; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] != '\\' || i + 1 >= line.Length) { value.Append(line[i]); continue; }
                    char escaped = line[++i];
                    value.Append(escaped == 'n' ? '\n' : escaped);
                }
                if (i >= line.Length) return null;   // no closing quote
                i++;
                labels[label] = value.ToString();
            }
        }
        // The value, then an optional timestamp.
        var rest = line[i..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is 0 or > 2) return null;
        double? number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null,
        };
        return number is { } n ? new MetricSample(name, labels, n) : null;
    }
}
