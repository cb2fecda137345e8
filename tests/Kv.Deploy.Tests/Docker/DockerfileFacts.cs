using System.Text.RegularExpressions;

namespace Kv.Deploy.Tests.Docker;

/// <summary>One Dockerfile instruction, continuation lines joined.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments, int Line);

/// <summary>One build stage: its base image, its name (AS …) and its instructions.</summary>
internal sealed record DockerStage(string BaseImage, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);
}

/// <summary>
/// What a Dockerfile declares, read without Docker: its stages and the final image's ports, volumes, environment
/// and user. Enough of the syntax for this repository's Dockerfile (no ARG substitution, no heredocs).
/// </summary>
internal sealed partial class DockerfileFacts
{
    private DockerfileFacts(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    /// <summary>The final image's EXPOSEd ports.</summary>
    public IReadOnlySet<int> ExposedPorts =>
        Final.All("EXPOSE").SelectMany(i => Words(i.Arguments)).Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();

    /// <summary>The final image's VOLUMEs.</summary>
    public IReadOnlySet<string> Volumes =>
        Final.All("VOLUME").SelectMany(i => i.Arguments.TrimStart().StartsWith('[')
            ? System.Text.Json.JsonSerializer.Deserialize<string[]>(i.Arguments)!
            : Words(i.Arguments)).ToHashSet();

    /// <summary>The final image's ENV (key=value form), later values winning.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (DockerInstruction env in Final.All("ENV"))
                foreach (string pair in Words(env.Arguments))
                {
                    int equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0) throw new FormatException($"line {env.Line}: ENV {pair} is not KEY=VALUE (the only form this reader knows)");
                    environment[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
            return environment;
        }
    }

    /// <summary>The final image's USER, or null (root).</summary>
    public string? User => Final.All("USER").LastOrDefault()?.Arguments.Trim();

    public static DockerfileFacts Parse(string text)
    {
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        string baseImage = "";
        string? name = null;
        foreach (DockerInstruction instruction in Instructions(text))
        {
            if (instruction.Keyword == "FROM")
            {
                if (current is not null) stages.Add(new DockerStage(baseImage, name, current));
                string[] words = Words(instruction.Arguments).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                baseImage = words[0];
                name = words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                current = [];
                continue;
            }
            if (current is null) throw new FormatException($"line {instruction.Line}: {instruction.Keyword} before FROM");
            current.Add(instruction);
        }
        if (current is not null) stages.Add(new DockerStage(baseImage, name, current));
        return new DockerfileFacts(stages);
    }

    private static IEnumerable<DockerInstruction> Instructions(string text)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int start = i + 1;
            var joined = new System.Text.StringBuilder();
            while (line.EndsWith('\\') && i + 1 < lines.Length)
            {
                joined.Append(line[..^1]).Append(' ');
                do line = lines[++i].Trim(); while (line.StartsWith('#') && i + 1 < lines.Length);
            }
            joined.Append(line);
            Match m = InstructionPattern().Match(joined.ToString());
            yield return new DockerInstruction(m.Groups[1].Value.ToUpperInvariant(), m.Groups[2].Value.Trim(), start);
        }
    }

    private static string[] Words(string text) => text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex(@"^(\w+)\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionPattern();
}
