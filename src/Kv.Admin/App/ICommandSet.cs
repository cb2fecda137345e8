using System.CommandLine;

namespace Kv.Admin.App;

/// <summary>
/// A group of kvctl commands in one file (cluster, members, data, shell, …). A new group is one class and one line
/// in <see cref="KvctlApp.CommandSets"/>; its commands then appear in help, in the shell and in its completion.
/// </summary>
public interface ICommandSet
{
    /// <summary>The group's top-level commands, with their actions set through <see cref="KvctlApp.SetAction"/>.</summary>
    IEnumerable<Command> Build(KvctlApp app);
}
