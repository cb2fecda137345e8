using Kv.Paxos;
using Kv.Storage.Mvcc;

namespace Kv.Server.Replication;

/// <summary>An input to the host's loop. The loop is the only code that touches replicas.</summary>
internal abstract record HostEvent;

internal sealed record TickEvent : HostEvent
{
    public static readonly TickEvent Instance = new();
}

/// <summary>A peer's message; <see cref="Traces"/> are the trace contexts the transport carried with it (a traced Accept).</summary>
internal sealed record PeerMessageEvent(ulong GroupId, PaxosMessage Message, IReadOnlyList<Telemetry.TracedSlot>? Traces = null) : HostEvent;

/// <summary>A proposal; <see cref="Span"/> is its sampled <c>paxos.propose</c> span, if any (carried to the followers).</summary>
internal sealed record ProposeEvent(ulong RangeId, Command Command, TaskCompletionSource<Proto.V1.RangeCommandResult> Completion,
    System.Diagnostics.Activity? Span = null) : HostEvent;

/// <summary>A linearizable read: <see cref="Read"/> runs on the loop once the read is confirmed and applied.</summary>
internal sealed record ReadEvent(ulong RangeId, Func<Ranges.RangeStateMachine, object> Read, TaskCompletionSource<object> Completion) : HostEvent;

/// <summary>
/// A read of the replica's applied state as it stands, on the loop: no lease check and no read-index round, so it
/// never wakes a quiescent group. For background work that tolerates a stale answer (the transaction sweeper).
/// </summary>
internal sealed record LocalReadEvent(ulong RangeId, Func<Ranges.RangeStateMachine, object> Read, TaskCompletionSource<object> Completion) : HostEvent;

/// <summary>Propose a membership change of a range.</summary>
internal sealed record MembershipEvent(ulong RangeId, MembershipChange Change, TaskCompletionSource<Proto.V1.RangeCommandResult> Completion) : HostEvent;

/// <summary>A restore's data has been fetched: finish it on the loop.</summary>
internal sealed record RestoreFetchedEvent(ulong RangeId, RangeRestore Restore) : HostEvent;

/// <summary>Create the replicas the directory places here but this node lacks.</summary>
internal sealed record AdoptEvent(IReadOnlyList<Proto.V1.RangeDescriptor> Descriptors) : HostEvent;

/// <summary>Rebuild a replica whose data was found corrupt.</summary>
internal sealed record RebuildEvent(ulong RangeId, string Reason) : HostEvent;

/// <summary>Hand leadership of every led range to another voter (before a clean stop).</summary>
internal sealed record HandOffEvent : HostEvent;

/// <summary>Hand leadership of one range to a chosen voter (an admin's request).</summary>
internal sealed record TransferLeadershipEvent(ulong RangeId, int Target, TaskCompletionSource<bool> Completion) : HostEvent;
