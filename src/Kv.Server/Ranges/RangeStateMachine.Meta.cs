using Google.Protobuf;
using Kv.Proto.V1;
using Kv.Storage.Meta;
using RocksDbSharp;

namespace Kv.Server.Ranges;

/// <summary>The meta range's commands: the directory of range descriptors and the range id counter.</summary>
public sealed partial class RangeStateMachine
{
    private readonly Dictionary<ulong, RangeDescriptor> _directory = new();
    private readonly Dictionary<ulong, NodeInfo> _nodes = new();
    private readonly List<NodeInfo> _nodeChanges = [];
    private ulong _nextRangeId = RangeIds.FirstAllocated;

    /// <summary>The meta range's node registry as applied here (empty for other ranges).</summary>
    public IReadOnlyCollection<NodeInfo> Nodes => _nodes.Values;

    /// <summary>Registry entries changed by the last <see cref="Apply"/> or <see cref="Restore"/>.</summary>
    public IReadOnlyList<NodeInfo> TakeNodeChanges()
    {
        var taken = _nodeChanges.ToArray();
        _nodeChanges.Clear();
        return taken;
    }

    /// <summary>The meta range's directory as applied here (empty for other ranges).</summary>
    public IReadOnlyCollection<RangeDescriptor> Directory => _directory.Values;

    private void LoadDirectory()
    {
        foreach (var (key, value) in _meta.List(RangeStateKeys.DirectoryPrefix))
        {
            var d = MetaStore.Decode(key, value, RangeDescriptor.Parser.ParseFrom);
            _directory[d.RangeId] = d;
        }
        if (_meta.TryGet(RangeStateKeys.NextRangeId, out var next)) _nextRangeId = BitConverter.ToUInt64(next);
        foreach (var (key, value) in _meta.List(RangeStateKeys.NodePrefix))
        {
            var n = MetaStore.Decode(key, value, NodeInfo.Parser.ParseFrom);
            _nodes[n.NodeId] = n;
        }
    }

    private RangeCommandResult UpdateDirectory(WriteBatch batch, MetaUpdate update)
    {
        foreach (var d in update.Descriptors)
        {
            // Older or equal generations lose: updates are retried and may arrive after newer ones.
            if (_directory.TryGetValue(d.RangeId, out var known) && known.Generation >= d.Generation) continue;
            var stored = d.Clone();
            foreach (var r in stored.Replicas) r.Endpoint = "";
            _directory[d.RangeId] = stored;
            _meta.Put(batch, RangeStateKeys.DirectoryEntry(d.RangeId), stored.ToByteArray());
            _descriptorChanges.Add(stored);
        }
        foreach (var n in update.Nodes)
        {
            if (n.NodeId == 0) continue;
            _nodes[n.NodeId] = n;
            _meta.Put(batch, RangeStateKeys.Node(n.NodeId), n.ToByteArray());
            _nodeChanges.Add(n);
        }
        return new RangeCommandResult { Succeeded = true };
    }

    private RangeCommandResult AllocateRangeIds(WriteBatch batch, MetaAllocateRangeIds allocate)
    {
        if (allocate.Count == 0) return new RangeCommandResult { Error = "allocate at least one range id" };
        ulong first = _nextRangeId;
        _nextRangeId += allocate.Count;
        _meta.Put(batch, RangeStateKeys.NextRangeId, BitConverter.GetBytes(_nextRangeId));
        return new RangeCommandResult { Succeeded = true, AllocatedId = first };
    }

    /// <summary>
    /// The meta range's genesis, written by <c>init</c>: the directory holds <paramref name="ranges"/> and ids from
    /// <paramref name="nextRangeId"/> on are free.
    /// </summary>
    internal static void WriteGenesisDirectory(MetaStoreWriter put, IEnumerable<RangeDescriptor> ranges, ulong nextRangeId, IEnumerable<NodeInfo> nodes)
    {
        foreach (var d in ranges) put(RangeStateKeys.DirectoryEntry(d.RangeId), d.ToByteArray());
        foreach (var n in nodes) put(RangeStateKeys.Node(n.NodeId), n.ToByteArray());
        put(RangeStateKeys.NextRangeId, BitConverter.GetBytes(nextRangeId));
    }
}

/// <summary>Puts one meta-column-family key into the caller's batch.</summary>
internal delegate void MetaStoreWriter(string key, byte[] value);
