namespace Kv.Server;

/// <summary>The node's entry point; the server issue fills it in.</summary>
public static class Program
{
    /// <summary>Starts a node (not yet: the server is being built).</summary>
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("kv server: not available yet (the server issue is in progress)");
        return args.Length == 0 ? 2 : 2;
    }
}
