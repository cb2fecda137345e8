using System.CommandLine;

namespace Kv.Admin.Shell;

/// <summary>
/// Tab completion from the command tree: command and subcommand names, options, and whatever an argument's own
/// completion sources offer (enum values of --output and --encoding; a command that can list names, such as
/// snapshots, adds a source to its argument and is completed here with no change).
/// </summary>
public sealed class ShellCompleter(Command root, IReadOnlyList<string> shellWords)
{
    /// <summary>The candidates for the word that ends at the end of <paramref name="textBeforeCursor"/>.</summary>
    public IReadOnlyList<string> Complete(string textBeforeCursor)
    {
        var completions = root.Parse(textBeforeCursor).GetCompletions(textBeforeCursor.Length).Select(c => c.InsertText ?? c.Label)
            // Windows-style help aliases (/?, /h, -?) only crowd the list.
            .Where(c => !c.StartsWith('/') && c != "-?");
        // At the start of a line the shell's own words (help, exit, …) complete too; `shell` itself does not.
        bool firstWord = !textBeforeCursor.TrimStart().Contains(' ');
        if (firstWord) completions = completions.Where(c => c != "shell").Concat(shellWords);
        return completions.Distinct().Order(StringComparer.Ordinal).ToArray();
    }
}
