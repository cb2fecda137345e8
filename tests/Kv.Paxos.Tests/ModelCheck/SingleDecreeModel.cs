using System.Runtime.CompilerServices;
using System.Text;

namespace Kv.Paxos.Tests.ModelCheck;

/// <summary>
/// The value a proposer sends in its Accept once a quorum has promised: <paramref name="ownValue"/> is the value
/// the proposer would like, <paramref name="acceptedInPromises"/> the (ballot, value) pairs reported by the
/// promises it has collected for its current ballot (promises reporting nothing accepted are omitted).
/// </summary>
public delegate string ProposerValueRule(string ownValue, IReadOnlyList<(Ballot Ballot, string Value)> acceptedInPromises);

/// <summary>An acceptor's decision whether to act on an incoming ballot, given the ballot it has promised.</summary>
public delegate bool AcceptorRule(Ballot promised, Ballot incoming);

/// <summary>What a proposer is doing with its current ballot.</summary>
public enum ProposerPhase : byte
{
    /// <summary>Has not started any ballot yet.</summary>
    Idle,

    /// <summary>Sent Prepare for its current ballot and is collecting promises.</summary>
    Preparing,

    /// <summary>Sent Accept for its current ballot.</summary>
    Accepting,
}

/// <summary>The kinds of message in flight.</summary>
public enum MessageKind : byte
{
    /// <summary>Phase 1a, proposer to every acceptor.</summary>
    Prepare,

    /// <summary>Phase 1b, acceptor to the proposer owning the ballot.</summary>
    Promise,

    /// <summary>Phase 2a, proposer to every acceptor.</summary>
    Accept,

    /// <summary>Phase 2b, acceptor to the learner. Recorded as a <see cref="Vote"/>; see <see cref="SingleDecreeModel"/>.</summary>
    Accepted,
}

/// <summary>
/// A message. Prepare and Accept are broadcasts: any acceptor may receive them, and delivering without removing
/// lets further acceptors (or the same one again) receive them later, so one in-flight broadcast stands for its
/// copies to every acceptor. Promise carries the sender's accepted (ballot, value), <see cref="Value"/> null
/// meaning nothing accepted.
/// </summary>
public readonly record struct Message(MessageKind Kind, Ballot Ballot, int Acceptor, Ballot AcceptedBallot, string? Value)
{
    public static Message Prepare(Ballot ballot) => new(MessageKind.Prepare, ballot, 0, Ballot.Zero, null);

    public static Message Promise(Ballot ballot, int from, Ballot acceptedBallot, string? acceptedValue) =>
        new(MessageKind.Promise, ballot, from, acceptedBallot, acceptedValue);

    public static Message Accept(Ballot ballot, string value) => new(MessageKind.Accept, ballot, 0, Ballot.Zero, value);

    public static Message Accepted(Ballot ballot, int from, string value) => new(MessageKind.Accepted, ballot, from, Ballot.Zero, value);

    public override string ToString() => Kind switch
    {
        MessageKind.Prepare => $"Prepare({Ballot})",
        MessageKind.Promise => $"Promise({Ballot}, from A{Acceptor}, accepted {(Value is null ? "nothing" : $"{Value}@{AcceptedBallot}")})",
        MessageKind.Accept => $"Accept({Ballot}, {Value})",
        _ => $"Accepted({Ballot}, from A{Acceptor}, {Value})",
    };
}

/// <summary>An acceptor's durable state: its promise and its last accepted (ballot, value).</summary>
public readonly record struct AcceptorState(Ballot Promised, Ballot AcceptedBallot, string? AcceptedValue)
{
    public override string ToString() =>
        $"promised {Promised}, accepted {(AcceptedValue is null ? "nothing" : $"{AcceptedValue}@{AcceptedBallot}")}";
}

/// <summary>A promise a proposer has collected for its current ballot.</summary>
public readonly record struct CollectedPromise(int From, Ballot AcceptedBallot, string? AcceptedValue);

/// <summary>
/// A proposer's state. <see cref="Promises"/> is a duplicate-free set; equality of whole states goes through
/// <see cref="SingleDecreeState.Key"/>, never through these records.
/// </summary>
public sealed record ProposerState(int BallotsStarted, ProposerPhase Phase, Ballot Current, string? Proposed, CollectedPromise[] Promises)
{
    public static readonly ProposerState Initial = new(0, ProposerPhase.Idle, Ballot.Zero, null, []);
}

/// <summary>A vote: acceptor <see cref="Acceptor"/> has sent Accepted(<see cref="Ballot"/>, <see cref="Value"/>).</summary>
public readonly record struct Vote(Ballot Ballot, int Acceptor, string Value);

/// <summary>
/// One global state of the model, immutable. <see cref="Key"/> is its canonical encoding (sets sorted, acceptors
/// renamed to the least encoding when symmetry reduction is on), which the explorer uses to dedupe.
/// </summary>
public sealed class SingleDecreeState
{
    internal SingleDecreeState(AcceptorState[] acceptors, ProposerState[] proposers, Message[] network, Vote[] votes, string key)
    {
        AcceptorArray = acceptors;
        ProposerArray = proposers;
        NetworkArray = network;
        VoteArray = votes;
        Key = key;
    }

    /// <summary>Acceptor i + 1 is at index i.</summary>
    public IReadOnlyList<AcceptorState> Acceptors => AcceptorArray;

    /// <summary>Proposer i + 1 is at index i.</summary>
    public IReadOnlyList<ProposerState> Proposers => ProposerArray;

    /// <summary>In-flight messages, as a set (duplication is modelled by delivering without removing).</summary>
    public IReadOnlyList<Message> Network => NetworkArray;

    /// <summary>Every Accepted message ever sent: the vote history, from which "chosen" is defined.</summary>
    public IReadOnlyList<Vote> Votes => VoteArray;

    /// <summary>Canonical encoding of the state.</summary>
    public string Key { get; }

    internal AcceptorState[] AcceptorArray { get; }

    internal ProposerState[] ProposerArray { get; }

    internal Message[] NetworkArray { get; }

    internal Vote[] VoteArray { get; }
}

/// <summary>A step of the model, printable as a line of a counterexample trace.</summary>
public abstract record ModelTransition;

/// <summary>A proposer abandons whatever it was doing and starts its next ballot, broadcasting Prepare.</summary>
public sealed record StartBallot(int Proposer, Ballot Ballot) : ModelTransition
{
    public override string ToString() => $"P{Proposer} starts ballot {Ballot} and sends Prepare({Ballot})";
}

/// <summary>A proposer holding promises from a quorum picks its value and broadcasts Accept.</summary>
public sealed record SendAccept(int Proposer, Ballot Ballot, string Value) : ModelTransition
{
    public override string ToString() => $"P{Proposer} has a quorum of promises for {Ballot}, picks {Value} and sends Accept({Ballot}, {Value})";
}

/// <summary>A message is delivered to <see cref="Recipient"/>; with <see cref="Keep"/> it stays in the network (duplication).</summary>
public sealed record Deliver(Message Message, string Recipient, bool Keep) : ModelTransition
{
    public override string ToString() => $"deliver {Message} to {Recipient}{(Keep ? " (a copy stays in the network)" : "")}";
}

/// <summary>A message is lost.</summary>
public sealed record Drop(Message Message) : ModelTransition
{
    public override string ToString() => $"lose {Message}";
}

/// <summary>The scope and the (pluggable) rules of a <see cref="SingleDecreeModel"/>.</summary>
public sealed record SingleDecreeModelOptions
{
    /// <summary>Number of acceptors; a quorum is a strict majority.</summary>
    public int Acceptors { get; init; } = 3;

    /// <summary>Proposer i + 1 proposes <c>ProposerValues[i]</c>; values must be distinct.</summary>
    public IReadOnlyList<string> ProposerValues { get; init; } = ["A", "B"];

    /// <summary>How many ballots proposer i + 1 may start; its k-th ballot is <c>Ballot(k, i + 1)</c>.</summary>
    public IReadOnlyList<int> BallotsPerProposer { get; init; } = [2, 2];

    /// <summary>The proposer's phase-2a value choice.</summary>
    public ProposerValueRule ValueRule { get; init; } = SingleDecreeModel.SafeValueRule;

    /// <summary>The acceptor's phase-1b rule.</summary>
    public AcceptorRule MayPromise { get; init; } = PaxosRules.MayPromise;

    /// <summary>The acceptor's phase-2b rule.</summary>
    public AcceptorRule MayAccept { get; init; } = PaxosRules.MayAccept;

    /// <summary>Whether any in-flight message may be lost.</summary>
    public bool Loss { get; init; } = true;

    /// <summary>Whether a delivered message may stay in the network to be delivered again.</summary>
    public bool Duplication { get; init; } = true;

    /// <summary>
    /// Identify states that differ only by a renaming of the acceptors. Sound because nothing in the model
    /// (the rules included, which only see ballots) depends on an acceptor's identity, and the invariant does not.
    /// </summary>
    public bool AcceptorSymmetry { get; init; } = true;
}

/// <summary>
/// Explicit-state model of single-decree Paxos built on <see cref="PaxosRules"/>: acceptors, proposers each with
/// their own value and a bounded number of ballots, an asynchronous network that reorders, loses and duplicates
/// messages, and the history of Accepted messages ("votes") from which "chosen" is defined.
/// </summary>
/// <remarks>
/// <para>Transitions: a proposer starts its next ballot (sending Prepare); a proposer with promises from a quorum
/// for its current ballot picks its value with the value rule and sends Accept; any in-flight message is delivered
/// and then either removed or left in the network (duplication); any in-flight message is lost.</para>
/// <para>Reductions, none of which removes a behaviour of the processes or of the votes:</para>
/// <list type="bullet">
/// <item>Accepted messages go to the learner, whose entire state is the vote history: receiving, losing or
/// duplicating one changes no process, so an Accepted is recorded as a vote when sent and not kept in flight.</item>
/// <item>Dead messages are removed from the network: a Promise whose proposer is no longer preparing that ballot
/// (a proposer's ballot and phase only move forward) or has already collected that promise; and a Prepare or
/// Accept that every acceptor rejects, when the acceptor rule is monotone in the promise (checked exhaustively
/// over this model's ballots at construction) since promises only grow. Delivering a dead message could only
/// be a no-op.</item>
/// <item>Optionally (<see cref="SingleDecreeModelOptions.AcceptorSymmetry"/>), states equal up to renaming the
/// acceptors share one key.</item>
/// </list>
/// </remarks>
public sealed class SingleDecreeModel
{
    private readonly SingleDecreeModelOptions _options;
    private readonly int _acceptors;
    private readonly int _proposers;
    private readonly int _quorum;
    private readonly List<Ballot> _ballots;
    private readonly bool[,] _mayPromiseTable;
    private readonly bool[,] _mayAcceptTable;
    private readonly bool _prunePrepare;
    private readonly bool _pruneAccept;
    private readonly int[][] _permutations;
    private readonly bool[] _keepChoices;
    private readonly string[] _acceptorNames;
    private readonly string[] _proposerNames;

    public SingleDecreeModel(SingleDecreeModelOptions? options = null)
    {
        _options = options ?? new SingleDecreeModelOptions();
        _acceptors = _options.Acceptors;
        _proposers = _options.ProposerValues.Count;
        _quorum = _acceptors / 2 + 1;
        if (_options.BallotsPerProposer.Count != _proposers)
        {
            throw new ArgumentException("BallotsPerProposer needs one entry per proposer.", nameof(options));
        }
        if (_options.ProposerValues.Distinct(StringComparer.Ordinal).Count() != _proposers)
        {
            throw new ArgumentException("Proposer values must be distinct.", nameof(options));
        }
        // The key packs a message into one char: 2 bits kind, 4 bits ballot, 3 bits acceptor, 4 bits accepted
        // ballot, 3 bits value.
        if (_acceptors is < 1 or > 7 || _proposers is < 1 or > 7 || _options.BallotsPerProposer.Max() * _proposers > 15)
        {
            throw new ArgumentException("Scope too large for the compact state encoding.", nameof(options));
        }

        _ballots = [Ballot.Zero];
        for (int k = 1; k <= _options.BallotsPerProposer.Max(); k++)
        {
            for (int p = 1; p <= _proposers; p++)
            {
                _ballots.Add(new Ballot(k, p)); // in BallotIndex order
            }
        }
        _mayPromiseTable = Tabulate(_options.MayPromise);
        _mayAcceptTable = Tabulate(_options.MayAccept);
        _prunePrepare = IsMonotoneInPromise(_mayPromiseTable);
        _pruneAccept = IsMonotoneInPromise(_mayAcceptTable);
        _permutations = _options.AcceptorSymmetry ? Permutations(_acceptors) : [Enumerable.Range(0, _acceptors).ToArray()];
        _keepChoices = _options.Duplication ? [false, true] : [false];
        _acceptorNames = Enumerable.Range(1, _acceptors).Select(a => $"A{a}").ToArray();
        _proposerNames = Enumerable.Range(1, _proposers).Select(p => $"P{p}").ToArray();
    }

    /// <summary>Size of a quorum.</summary>
    public int Quorum => _quorum;

    /// <summary>The correct rule: <see cref="PaxosRules.SafeValue{TValue}"/>, or the proposer's own value if unconstrained.</summary>
    public static string SafeValueRule(string ownValue, IReadOnlyList<(Ballot Ballot, string Value)> acceptedInPromises)
    {
        string? safe = PaxosRules.SafeValue(acceptedInPromises, out bool hasConstraint);
        return hasConstraint ? safe! : ownValue;
    }

    /// <summary>A broken rule: ignore what the promises report and always propose your own value.</summary>
    public static string OwnValueRule(string ownValue, IReadOnlyList<(Ballot Ballot, string Value)> acceptedInPromises) => ownValue;

    /// <summary>No acceptor has promised or accepted anything, no proposer has started, the network is empty.</summary>
    public SingleDecreeState Initial()
    {
        var acceptors = new AcceptorState[_acceptors];
        Array.Fill(acceptors, new AcceptorState(Ballot.Zero, Ballot.Zero, null));
        var proposers = new ProposerState[_proposers];
        Array.Fill(proposers, ProposerState.Initial);
        return Make(acceptors, proposers, [], []);
    }

    /// <summary>
    /// Every transition enabled in <paramref name="s"/>, with the state it leads to. A variant whose successor is
    /// provably the same state as another one listed (or as <paramref name="s"/> itself) is listed only once:
    /// delivering a message that changes nothing and removing it is the same as losing it, and keeping it is a
    /// self-loop; a kept copy of a Promise is dead once collected, so keeping it is the same as removing it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the test project builds Debug; this is the hot path
    public List<(ModelTransition Transition, SingleDecreeState Next)> Successors(SingleDecreeState s)
    {
        var result = new List<(ModelTransition, SingleDecreeState)>();
        AcceptorState[] acceptors = s.AcceptorArray;
        ProposerState[] proposers = s.ProposerArray;
        Message[] network = s.NetworkArray;
        Vote[] votes = s.VoteArray;

        for (int p = 0; p < _proposers; p++)
        {
            ProposerState proposer = proposers[p];
            int id = p + 1;

            // Start the next ballot, whatever the current one is doing (a timeout and retry higher).
            if (proposer.BallotsStarted < _options.BallotsPerProposer[p])
            {
                var ballot = new Ballot(proposer.BallotsStarted + 1, id);
                var next = new ProposerState(proposer.BallotsStarted + 1, ProposerPhase.Preparing, ballot, null, []);
                result.Add((new StartBallot(id, ballot), Make(acceptors, With(proposers, p, next), Add(network, Message.Prepare(ballot)), votes)));
            }

            // Phase 2a once a quorum of acceptors has promised the current ballot. Not forced: the proposer may
            // also wait for more promises (any superset of a quorum) or abandon the ballot.
            if (proposer.Phase == ProposerPhase.Preparing && DistinctSenders(proposer.Promises) >= _quorum)
            {
                var reported = new List<(Ballot Ballot, string Value)>();
                foreach (CollectedPromise c in proposer.Promises)
                {
                    if (c.AcceptedValue is not null)
                    {
                        reported.Add((c.AcceptedBallot, c.AcceptedValue));
                    }
                }
                string value = _options.ValueRule(_options.ProposerValues[p], reported);
                _ = ValueIndex(value); // rejects values no proposer has
                var next = proposer with { Phase = ProposerPhase.Accepting, Proposed = value };
                result.Add((new SendAccept(id, proposer.Current, value),
                    Make(acceptors, With(proposers, p, next), Add(network, Message.Accept(proposer.Current, value)), votes)));
            }
        }

        foreach (Message m in network)
        {
            Message[] without = Remove(network, m);

            if (_options.Loss)
            {
                result.Add((new Drop(m), Make(acceptors, proposers, without, votes)));
            }

            if (m.Kind == MessageKind.Promise)
            {
                // Live, hence for the owner's current Preparing ballot and not yet collected (see IsLive).
                int p = m.Ballot.ReplicaId - 1;
                ProposerState proposer = proposers[p];
                var collected = new CollectedPromise(m.Acceptor, m.AcceptedBallot, m.Value);
                ProposerState[] nextProposers = With(proposers, p, proposer with { Promises = [.. proposer.Promises, collected] });
                result.Add((new Deliver(m, _proposerNames[p], Keep: false), Make(acceptors, nextProposers, without, votes)));
                continue;
            }

            // Prepare or Accept, to any one acceptor.
            for (int a = 0; a < _acceptors; a++)
            {
                (AcceptorState acceptor, Message? reply) = m.Kind == MessageKind.Prepare
                    ? ReceivePrepare(acceptors[a], a + 1, m)
                    : ReceiveAccept(acceptors[a], a + 1, m);
                AcceptorState[] nextAcceptors = acceptor == acceptors[a] ? acceptors : With(acceptors, a, acceptor);
                Vote[] nextVotes = votes;
                Message[] sent = network;
                if (reply is { Kind: MessageKind.Accepted } accepted)
                {
                    var vote = new Vote(accepted.Ballot, accepted.Acceptor, accepted.Value!);
                    nextVotes = Array.IndexOf(votes, vote) >= 0 ? votes : [.. votes, vote];
                }
                else if (reply is { } promise)
                {
                    sent = Add(network, promise);
                }
                bool noop = ReferenceEquals(nextAcceptors, acceptors) && ReferenceEquals(nextVotes, votes) && ReferenceEquals(sent, network);

                if (!(noop && _options.Loss))
                {
                    Message[] net = reply is { Kind: MessageKind.Promise } r ? Add(without, r) : without;
                    result.Add((new Deliver(m, _acceptorNames[a], Keep: false), Make(nextAcceptors, proposers, net, nextVotes)));
                }
                if (_options.Duplication && !noop)
                {
                    result.Add((new Deliver(m, _acceptorNames[a], Keep: true), Make(nextAcceptors, proposers, sent, nextVotes)));
                }
            }
        }
        return result;
    }

    /// <summary>The values chosen in <paramref name="s"/>: those voted for by a quorum of acceptors in one ballot.</summary>
    public IReadOnlyList<(string Value, Ballot Ballot, int[] Acceptors)> Chosen(SingleDecreeState s)
    {
        var chosen = new List<(string, Ballot, int[])>();
        Vote[] votes = s.VoteArray;
        if (votes.Length < _quorum)
        {
            return chosen;
        }
        foreach (var group in votes.GroupBy(v => (v.Ballot, v.Value)))
        {
            int[] by = group.Select(v => v.Acceptor).Distinct().Order().ToArray();
            if (by.Length >= _quorum)
            {
                chosen.Add((group.Key.Value, group.Key.Ballot, by));
            }
        }
        return chosen;
    }

    /// <summary>The safety invariant: at most one value is chosen. Null if it holds, else what went wrong.</summary>
    public string? AtMostOneValueChosen(SingleDecreeState s)
    {
        var chosen = Chosen(s);
        if (chosen.Select(c => c.Value).Distinct(StringComparer.Ordinal).Count() <= 1)
        {
            return null;
        }
        return "two different values chosen: " + string.Join(" and ",
            chosen.Select(c => $"{c.Value} in ballot {c.Ballot} by {string.Join(",", c.Acceptors.Select(a => $"A{a}"))}"));
    }

    /// <summary>A one-line description of a state, for traces.</summary>
    public string Describe(SingleDecreeState s)
    {
        var sb = new StringBuilder();
        for (int a = 0; a < s.Acceptors.Count; a++)
        {
            sb.Append($"A{a + 1}[{s.Acceptors[a]}] ");
        }
        for (int p = 0; p < s.Proposers.Count; p++)
        {
            ProposerState x = s.Proposers[p];
            sb.Append($"P{p + 1}[{x.Phase} {x.Current}");
            if (x.Proposed is not null)
            {
                sb.Append($" value {x.Proposed}");
            }
            if (x.Promises.Length > 0)
            {
                sb.Append(" promises from ").Append(string.Join(",", x.Promises.Select(c => $"A{c.From}").Distinct()));
            }
            sb.Append("] ");
        }
        sb.Append("network {").Append(string.Join("; ", s.Network)).Append('}');
        var chosen = Chosen(s);
        if (chosen.Count > 0)
        {
            sb.Append(" chosen {").Append(string.Join(", ", chosen.Select(c => $"{c.Value}@{c.Ballot}"))).Append('}');
        }
        return sb.ToString();
    }

    private (AcceptorState, Message?) ReceivePrepare(AcceptorState acceptor, int id, Message m)
    {
        if (!_options.MayPromise(acceptor.Promised, m.Ballot))
        {
            return (acceptor, null);
        }
        // Max keeps promises monotonic even under a broken rule; with the real rule it is m.Ballot.
        var next = acceptor with { Promised = Ballot.Max(acceptor.Promised, m.Ballot) };
        return (next, Message.Promise(m.Ballot, id, acceptor.AcceptedBallot, acceptor.AcceptedValue));
    }

    private (AcceptorState, Message?) ReceiveAccept(AcceptorState acceptor, int id, Message m)
    {
        if (!_options.MayAccept(acceptor.Promised, m.Ballot))
        {
            return (acceptor, null);
        }
        var next = new AcceptorState(Ballot.Max(acceptor.Promised, m.Ballot), m.Ballot, m.Value);
        return (next, Message.Accepted(m.Ballot, id, m.Value!));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private SingleDecreeState Make(AcceptorState[] acceptors, ProposerState[] proposers, Message[] network, Vote[] votes)
    {
        int live = 0;
        foreach (Message m in network)
        {
            live += IsLive(m, acceptors, proposers) ? 1 : 0;
        }
        if (live < network.Length)
        {
            var pruned = new Message[live];
            int i = 0;
            foreach (Message m in network)
            {
                if (IsLive(m, acceptors, proposers))
                {
                    pruned[i++] = m;
                }
            }
            network = pruned;
        }
        return new SingleDecreeState(acceptors, proposers, network, votes, CanonicalKey(acceptors, proposers, network, votes));
    }

    // Whether delivering m could still change anything (see the remarks on the class).
    private bool IsLive(Message m, AcceptorState[] acceptors, ProposerState[] proposers)
    {
        switch (m.Kind)
        {
            case MessageKind.Promise:
                ProposerState owner = proposers[m.Ballot.ReplicaId - 1];
                return owner.Phase == ProposerPhase.Preparing && owner.Current == m.Ballot &&
                       Array.IndexOf(owner.Promises, new CollectedPromise(m.Acceptor, m.AcceptedBallot, m.Value)) < 0;
            case MessageKind.Prepare when _prunePrepare:
            case MessageKind.Accept when _pruneAccept:
                bool[,] rule = m.Kind == MessageKind.Prepare ? _mayPromiseTable : _mayAcceptTable;
                int incoming = BallotIndex(m.Ballot);
                foreach (AcceptorState a in acceptors)
                {
                    if (rule[BallotIndex(a.Promised), incoming])
                    {
                        return true;
                    }
                }
                return false;
            default:
                return true;
        }
    }

    private static int DistinctSenders(CollectedPromise[] promises)
    {
        int senders = 0;
        foreach (CollectedPromise c in promises)
        {
            senders |= 1 << c.From;
        }
        return System.Numerics.BitOperations.PopCount((uint)senders);
    }

    // rule(promised, incoming) for every pair of ballots of this model, indexed by BallotIndex. Used only to decide
    // liveness cheaply; deliveries call the rules themselves.
    private bool[,] Tabulate(AcceptorRule rule)
    {
        var table = new bool[_ballots.Count, _ballots.Count];
        for (int promised = 0; promised < _ballots.Count; promised++)
        {
            for (int incoming = 0; incoming < _ballots.Count; incoming++)
            {
                table[promised, incoming] = rule(_ballots[promised], _ballots[incoming]);
            }
        }
        return table;
    }

    // True if a rejection at some promise implies a rejection at every higher promise, over all ballots here.
    private bool IsMonotoneInPromise(bool[,] rule)
    {
        for (int incoming = 1; incoming < _ballots.Count; incoming++)
        {
            for (int low = 0; low < _ballots.Count; low++)
            {
                for (int high = low; high < _ballots.Count; high++)
                {
                    if (!rule[low, incoming] && rule[high, incoming])
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    // The least, over all acceptor renamings, of: each acceptor's (promised, accepted ballot, accepted value); each
    // proposer's (ballots started, phase, proposed value, #promises, sorted promises); #messages and the sorted
    // network; the sorted votes. One char per field; sets are sorted after renaming, so this is canonical.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string CanonicalKey(AcceptorState[] acceptors, ProposerState[] proposers, Message[] network, Vote[] votes)
    {
        int length = 3 * _acceptors + 1 + network.Length + votes.Length;
        foreach (ProposerState p in proposers)
        {
            length += 4 + p.Promises.Length;
        }
        Span<char> best = stackalloc char[length];
        Span<char> current = stackalloc char[length];
        Span<int> position = stackalloc int[_acceptors + 1];
        Span<int> local = stackalloc int[_acceptors];
        for (int a = 0; a < _acceptors; a++)
        {
            local[a] = BallotIndex(acceptors[a].Promised) << 8 | BallotIndex(acceptors[a].AcceptedBallot) << 3 | ValueIndex(acceptors[a].AcceptedValue);
        }
        bool first = true;
        foreach (int[] permutation in _permutations)
        {
            // The acceptors come first in the key, so the least key lists them in order of their own state: only
            // renamings that sort them need to be tried (several only when acceptors are in the same state).
            bool sorted = true;
            for (int j = 1; j < _acceptors && sorted; j++)
            {
                sorted = local[permutation[j - 1]] <= local[permutation[j]];
            }
            if (!sorted)
            {
                continue;
            }
            // permutation[j] is the original (0-based) acceptor written at position j.
            for (int j = 0; j < _acceptors; j++)
            {
                position[permutation[j] + 1] = j + 1;
            }
            int i = 0;
            for (int j = 0; j < _acceptors; j++)
            {
                AcceptorState a = acceptors[permutation[j]];
                current[i++] = (char)BallotIndex(a.Promised);
                current[i++] = (char)BallotIndex(a.AcceptedBallot);
                current[i++] = (char)ValueIndex(a.AcceptedValue);
            }
            foreach (ProposerState p in proposers)
            {
                current[i++] = (char)p.BallotsStarted;
                current[i++] = (char)p.Phase;
                current[i++] = (char)ValueIndex(p.Proposed);
                current[i++] = (char)p.Promises.Length;
                int start = i;
                foreach (CollectedPromise c in p.Promises)
                {
                    current[i++] = (char)(position[c.From] | BallotIndex(c.AcceptedBallot) << 3 | ValueIndex(c.AcceptedValue) << 7);
                }
                current[start..i].Sort();
            }
            current[i++] = (char)network.Length;
            int netStart = i;
            foreach (Message m in network)
            {
                current[i++] = (char)((int)m.Kind | BallotIndex(m.Ballot) << 2 | position[m.Acceptor] << 6 |
                                      BallotIndex(m.AcceptedBallot) << 9 | ValueIndex(m.Value) << 13);
            }
            current[netStart..i].Sort();
            int voteStart = i;
            foreach (Vote v in votes)
            {
                current[i++] = (char)(position[v.Acceptor] | BallotIndex(v.Ballot) << 3 | ValueIndex(v.Value) << 7);
            }
            current[voteStart..i].Sort();

            if (first || current.SequenceCompareTo(best) < 0)
            {
                current.CopyTo(best);
                first = false;
            }
        }
        return new string(best);
    }

    // Ballot(k, p) -> (k - 1) * proposers + p, which preserves the ballot order; Zero -> 0.
    private int BallotIndex(Ballot b) => b.IsZero ? 0 : (int)(b.Round - 1) * _proposers + b.ReplicaId;

    private int ValueIndex(string? value)
    {
        if (value is null)
        {
            return 0;
        }
        for (int i = 0; i < _proposers; i++)
        {
            if (string.Equals(_options.ProposerValues[i], value, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }
        throw new InvalidOperationException($"Value '{value}' is not a proposer's value.");
    }

    private static Message[] Add(Message[] set, Message m) => Array.IndexOf(set, m) >= 0 ? set : [.. set, m];

    private static Message[] Remove(Message[] set, Message m)
    {
        var result = new Message[set.Length - 1];
        int i = 0;
        foreach (Message x in set)
        {
            if (x != m)
            {
                result[i++] = x;
            }
        }
        return result;
    }

    private static T[] With<T>(T[] array, int index, T value)
    {
        var copy = (T[])array.Clone();
        copy[index] = value;
        return copy;
    }

    private static int[][] Permutations(int n)
    {
        var result = new List<int[]>();
        void Extend(List<int> prefix)
        {
            if (prefix.Count == n)
            {
                result.Add([.. prefix]);
                return;
            }
            for (int i = 0; i < n; i++)
            {
                if (!prefix.Contains(i))
                {
                    prefix.Add(i);
                    Extend(prefix);
                    prefix.RemoveAt(prefix.Count - 1);
                }
            }
        }
        Extend([]);
        return [.. result];
    }
}
