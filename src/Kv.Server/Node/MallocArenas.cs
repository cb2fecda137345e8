using System.Runtime.InteropServices;

namespace Kv.Server.Node;

/// <summary>
/// Caps glibc's malloc arenas. glibc gives threads that allocate concurrently arenas of their own (up to 8 per core),
/// and RocksDB allocates from whichever thread-pool thread writes or reads, so a busy node's resident memory grew by
/// up to about 20 MB of half-used arenas per node at 64 concurrent puts (bench/results/bundling-and-memory.md); the runs
/// with two arenas showed no loss of puts/s against those without (same file, within the machine's noise). A
/// <c>MALLOC_ARENA_MAX</c> in the environment wins (glibc read it at start); other C libraries are left alone.
/// </summary>
internal static class MallocArenas
{
    private const int ArenaMaxOption = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>Caps the arenas at <paramref name="max"/> for allocations from here on; false when not applied.</summary>
    public static bool Limit(int max)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return false;
        try
        {
            return MallOpt(ArenaMaxOption, max) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no arenas to cap)
        }
    }

    // DllImport rather than LibraryImport: the latter needs unsafe code in the project for this one blittable call.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int option, int value);
#pragma warning restore SYSLIB1054
}
