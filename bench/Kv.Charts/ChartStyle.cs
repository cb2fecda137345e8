using ScottPlot;

namespace Kv.Charts;

/// <summary>What every chart shares: size, palette, grouped bars with labelled groups, saving.</summary>
internal static class ChartStyle
{
    public const int Width = 900;
    public const int Height = 480;

    public static readonly Color[] Palette =
    [
        Colors.SteelBlue, Colors.DarkOrange, Colors.ForestGreen, Colors.Crimson, Colors.MediumPurple, Colors.SaddleBrown,
    ];

    /// <summary>
    /// Bars in groups: <paramref name="values"/>[series][group]; each series has its colour and legend entry, each
    /// group its label under the axis. With <paramref name="pairedTails"/>, the second half of the series take the
    /// first half's colours, paler (p50 and p99 of the same system).
    /// </summary>
    public static void GroupedBars(Plot plot, IReadOnlyList<string> groups, IReadOnlyList<string> series, double[][] values, bool pairedTails = false)
    {
        Color ColorOf(int s) => pairedTails && s >= series.Count / 2
            ? Palette[(s - series.Count / 2) % Palette.Length].WithAlpha(0.45)
            : Palette[s % Palette.Length];
        double width = 0.8 / series.Count;
        var bars = new List<Bar>();
        for (int s = 0; s < series.Count; s++)
        {
            for (int g = 0; g < groups.Count; g++)
            {
                bars.Add(new Bar
                {
                    Position = g + (s - (series.Count - 1) / 2.0) * width,
                    Value = values[s][g],
                    Size = width * 0.95,
                    FillColor = ColorOf(s),
                    LineWidth = 0,
                });
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s], FillColor = ColorOf(s) });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(g => (double)g).ToArray(), groups.ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperLeft);
    }

    public static string Save(Plot plot, string directory, string name)
    {
        string path = Path.Combine(directory, name);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
