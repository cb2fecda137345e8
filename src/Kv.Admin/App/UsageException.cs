namespace Kv.Admin.App;

/// <summary>A command line the parser accepted but that is still wrong (say, malformed hex): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
