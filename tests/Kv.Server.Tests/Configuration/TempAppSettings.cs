namespace Kv.Server.Tests.Configuration;

/// <summary>An appsettings.json in a fresh temporary directory, deleted on dispose.</summary>
internal sealed class TempAppSettings : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kv-config-").FullName;

    public TempAppSettings(string json)
    {
        Path = System.IO.Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(Path, json);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
