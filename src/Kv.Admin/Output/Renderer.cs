using System.Text.Json;
using Kv.Admin.App;
using Spectre.Console;

namespace Kv.Admin.Output;

/// <summary>Rows to print: a table by default, tab-separated lines (no header) with <c>--output raw</c>.</summary>
/// <param name="Columns">Column headings.</param>
/// <param name="Rows">Cells, one array per row, as long as <paramref name="Columns"/>.</param>
/// <param name="Footer">A line under the table (table output only), or null.</param>
/// <param name="RawRows">The rows for <c>--output raw</c> when they differ from the table's (exact numbers, keys in --encoding); null: <paramref name="Rows"/>.</param>
public sealed record TableView(
    IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, string? Footer = null, IReadOnlyList<IReadOnlyList<string>>? RawRows = null);

/// <summary>Prints a command's result in the chosen <see cref="OutputFormat"/>.</summary>
public sealed class Renderer(Terminal terminal, OutputFormat format)
{
    /// <summary>The JSON conventions of every document: snake_case names, indented, nulls written.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Output for terminals and scripts, never embedded in HTML: keep '+', '<', non-ASCII text as they are.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The format in force.</summary>
    public OutputFormat Format => format;

    /// <summary>Prints <paramref name="document"/> as JSON, or <paramref name="table"/> as a table or raw rows.</summary>
    public void Write(object document, TableView table)
    {
        switch (format)
        {
            case OutputFormat.Json:
                Json(document);
                break;
            case OutputFormat.Raw:
                foreach (var row in table.RawRows ?? table.Rows) terminal.Out.WriteLine(string.Join('\t', row));
                break;
            default:
                Table(table);
                break;
        }
    }

    /// <summary>Prints <paramref name="document"/> as JSON when that is the format, else <paramref name="text"/> as a line.</summary>
    public void Write(object document, string text)
    {
        if (format == OutputFormat.Json) Json(document);
        else terminal.Out.WriteLine(text);
    }

    /// <summary>Prints a JSON document.</summary>
    public void Json(object document) => terminal.Out.WriteLine(JsonSerializer.Serialize(document, document.GetType(), JsonOptions));

    private void Table(TableView view)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal.Out),
            Ansi = terminal.OutputIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal.OutputIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = terminal.Width;
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in view.Columns) table.AddColumn(new TableColumn(Markup.Escape(c)).NoWrap());
        foreach (var row in view.Rows) table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
        console.Write(table);
        if (view.Footer is not null) terminal.Out.WriteLine(view.Footer);
    }
}
