using System.Text.RegularExpressions;
using Kv.Deploy.Tests.Tools;

namespace Kv.Deploy.Tests.Docker;

/// <summary>
/// Runs the Dockerfile's build stage without Docker: its COPY instructions copy from what a clean clone has (the
/// files git tracks or would track, never bin/, obj/ or other ignored files) into a temporary root standing for the
/// stage's file system, then its RUN commands run there with every absolute path moved under that root. The
/// published server (root/app, as /app in the image) is what the final stage copies.
/// </summary>
internal static partial class DockerBuildStage
{
    public static async Task<string> RunAsync(DockerfileFacts dockerfile, string root, TimeSpan timeout)
    {
        DockerStage stage = dockerfile.Stages[0];
        string workdir = Under(root, stage.All("WORKDIR").Last().Arguments);
        Directory.CreateDirectory(workdir);
        IReadOnlyList<string> cloneFiles = await CleanCloneFilesAsync();
        foreach (DockerInstruction copy in stage.All("COPY"))
        {
            string[] words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.DoesNotContain(words, w => w.StartsWith("--", StringComparison.Ordinal));
            string destination = Path.GetFullPath(Path.Combine(workdir, words[^1]));
            foreach (string source in words[..^1])
            {
                bool directory = source.EndsWith('/');
                var files = cloneFiles.Where(f => directory ? f.StartsWith(source, StringComparison.Ordinal) : f == source).ToList();
                Assert.True(files.Count > 0, $"line {copy.Line}: COPY {source} matches no file of a clean clone");
                foreach (string file in files)
                {
                    string target = Path.Combine(destination, directory ? file[source.Length..] : Path.GetFileName(file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(Path.Combine(RepositoryPaths.Root, file), target, overwrite: true);
                }
            }
        }
        foreach (DockerInstruction run in stage.All("RUN"))
        {
            string command = AbsolutePath().Replace(run.Arguments, m => m.Groups[1].Value + root + "/");
            ToolResult result = await ExternalTool.RunAsync("bash", ["-euo", "pipefail", "-c", command], timeout, workingDirectory: workdir);
            Assert.True(result.ExitCode == 0, $"line {run.Line}: RUN {command} failed: {result}");
        }
        return Under(root, "/app");
    }

    private static string Under(string root, string absolutePath) => Path.Combine(root, absolutePath.TrimStart('/'));

    /// <summary>Tracked files plus new ones git does not ignore: what the repository holds once committed.</summary>
    private static async Task<IReadOnlyList<string>> CleanCloneFilesAsync()
    {
        ToolResult result = await ExternalTool.RunAsync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"git ls-files failed: {result}");
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(f => File.Exists(Path.Combine(RepositoryPaths.Root, f))).ToList();
    }

    /// <summary>An absolute path in a shell command: after a space or '=', a '/' followed by a letter.</summary>
    [GeneratedRegex(@"(^|[\s=])/(?=[A-Za-z])")]
    private static partial Regex AbsolutePath();
}
