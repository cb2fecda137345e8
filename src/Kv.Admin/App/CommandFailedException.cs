namespace Kv.Admin.App;

/// <summary>The operation failed for a reason its message states with what to do (no such snapshot, directory not empty): exit code 1.</summary>
public sealed class CommandFailedException(string message) : Exception(message);
