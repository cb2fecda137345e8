using System.Numerics;
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

/// <summary>The kinds of message.</summary>
public enum MessageKind : byte
{
    /// <summary>Phase 1a, proposer to every acceptor.</summary>
    Prepare,

    /// <summary>Phase 1b, acceptor to the proposer owning the ballot.</summary>
    Promise,

    /// <summary>Phase 2a, proposer to every acceptor.</summary>
    Accept,

    /// <summary>Phase 2b, acceptor to the learner; recorded as a <see cref="Vote"/> (see <see cref="SingleDecreeModel"/>).</summary>
    Accepted,
}

/// <summary>
/// A message. Prepare and Accept are broadcasts: any acceptor may receive them, and delivering without removing
/// lets further acceptors (or the same one again) receive them later, so one in-flight broadcast stands for its
/// copies to every acceptor. A Promise carries its sender's accepted (ballot, value), <see cref="Value"/> null
/// meaning nothing accepted.
/// </summary>
public readonly record struct Message(MessageKind Kind, Ballot Ballot, int Acceptor, Ballot AcceptedBallot, string? Value)
{
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

/// <summary>A proposer's state: how many ballots it has started, the current one, and what it has done in it.</summary>
public sealed record ProposerState(int BallotsStarted, ProposerPhase Phase, Ballot Current, string? Proposed, IReadOnlyList<CollectedPromise> Promises);

/// <summary>A vote: acceptor <see cref="Acceptor"/> has sent Accepted(<see cref="Ballot"/>, <see cref="Value"/>).</summary>
public readonly record struct Vote(Ballot Ballot, int Acceptor, string Value);

/// <summary>
/// One global state of the model, immutable. Internally a compact encoding (see <see cref="SingleDecreeModel"/>);
/// the properties decode it. <see cref="Key"/> is the canonical encoding, equal for states that are the same up to
/// renaming acceptors (when symmetry reduction is on); the explorer dedupes on it.
/// </summary>
public sealed class SingleDecreeState
{
    private readonly SingleDecreeModel _model;

    internal SingleDecreeState(SingleDecreeModel model, string key, int[] renaming)
    {
        _model = model;
        Key = key;
        Renaming = renaming;
    }

    /// <summary>Canonical encoding of the state.</summary>
    public string Key { get; }

    /// <summary>Acceptor i + 1 is at index i.</summary>
    public IReadOnlyList<AcceptorState> Acceptors => _model.View(this).Acceptors;

    /// <summary>Proposer i + 1 is at index i.</summary>
    public IReadOnlyList<ProposerState> Proposers => _model.View(this).Proposers;

    /// <summary>In-flight messages, as a set (duplication is modelled by delivering without removing).</summary>
    public IReadOnlyList<Message> Network => _model.View(this).Network;

    /// <summary>Every Accepted message ever sent: the vote history, from which "chosen" is defined.</summary>
    public IReadOnlyList<Vote> Votes => _model.View(this).Votes;

    /// <summary>Acceptor <c>Renaming[j]</c> (0-based) of this state is acceptor j in <see cref="Key"/>.</summary>
    internal int[] Renaming { get; }
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
/// <para>Transitions: a proposer starts its next ballot (sending Prepare), at any time; a proposer with promises
/// from a quorum for its current ballot picks its value with the value rule and sends Accept (or keeps waiting for
/// more promises); any in-flight message is delivered and then either removed or left in the network
/// (duplication); any in-flight message is lost. Acceptors apply the acceptor rules; promises only grow.</para>
/// <para>Reductions, none of which removes a behaviour of the processes or of the votes:</para>
/// <list type="bullet">
/// <item>Accepted messages go to the learner, whose entire state is the vote history: receiving, losing or
/// duplicating one changes no process, so an Accepted is recorded as a vote when sent and not kept in flight.</item>
/// <item>Dead messages are removed from the network: a Promise whose proposer is no longer preparing that ballot
/// (a proposer's ballot and phase only move forward) or has already collected that promise; and a Prepare or
/// Accept that every acceptor rejects, when the acceptor rule is monotone in the promise (checked exhaustively
/// over this model's ballots at construction), since promises only grow. Delivering a dead message could only
/// be a no-op.</item>
/// <item>A successor provably equal to another listed successor, or to the state itself, is listed once.</item>
/// <item>Optionally (<see cref="SingleDecreeModelOptions.AcceptorSymmetry"/>), states equal up to renaming the
/// acceptors share one key.</item>
/// </list>
/// <para>Encoding. Ballots and values are small indices: ballot index 0 is <see cref="Ballot.Zero"/> and
/// <c>Ballot(k, p)</c> is <c>(k - 1) * proposers + p</c>, which preserves the ballot order; value index 0 is
/// "none" and <c>p</c> is proposer p's value. A state is a string with one char per field: for each acceptor
/// (promised, accepted ballot, accepted value); for each proposer (ballots started, phase, proposed value, number
/// of promises, then the promises as codes); the number of in-flight messages and their codes; the vote codes.
/// Sets are sorted. The key is the least such string over all renamings of the acceptors, and the state keeps the
/// renaming so that its acceptors keep their names along a trace. The rules are always called with the real
/// <see cref="Ballot"/> values.</para>
/// </remarks>
public sealed class SingleDecreeModel
{
    private readonly SingleDecreeModelOptions _options;
    private readonly int _acceptors;
    private readonly int _proposers;
    private readonly int _quorum;
    private readonly Ballot[] _ballots;
    private readonly string?[] _values;
    private readonly bool[] _mayPromiseTable;
    private readonly bool[] _mayAcceptTable;
    private readonly bool _prunePrepare;
    private readonly bool _pruneAccept;
    private readonly int[][] _permutations;
    private readonly string[] _acceptorNames;
    private readonly string[] _proposerNames;

    public SingleDecreeModel(SingleDecreeModelOptions? options = null)
    {
        _options = options ?? new SingleDecreeModelOptions();
        _acceptors = _options.Acceptors;
        _proposers = _options.ProposerValues.Count;
        _quorum = _acceptors / 2 + 1;
        if (_options.BallotsPerProposer.Count != _proposers || _options.BallotsPerProposer.Any(k => k < 0))
        {
            throw new ArgumentException("BallotsPerProposer needs one non-negative entry per proposer.", nameof(options));
        }
        if (_options.ProposerValues.Distinct(StringComparer.Ordinal).Count() != _proposers)
        {
            throw new ArgumentException("Proposer values must be distinct.", nameof(options));
        }
        // A message code packs 2 bits kind, 4 bits ballot, 3 bits acceptor, 4 bits accepted ballot, 3 bits value.
        int maxBallots = _proposers == 0 ? 0 : _options.BallotsPerProposer.Max(); // ballot indices up to 15
        if (_acceptors is < 1 or > 7 || _proposers is < 1 or > 7 || maxBallots * _proposers > 15)
        {
            throw new ArgumentException("Scope too large for the compact state encoding.", nameof(options));
        }

        _ballots = new Ballot[1 + maxBallots * _proposers];
        for (int k = 1; k <= maxBallots; k++)
        {
            for (int p = 1; p <= _proposers; p++)
            {
                _ballots[BallotIndex(k, p)] = new Ballot(k, p);
            }
        }
        _values = [null, .. _options.ProposerValues];
        _mayPromiseTable = Tabulate(_options.MayPromise);
        _mayAcceptTable = Tabulate(_options.MayAccept);
        _prunePrepare = IsMonotoneInPromise(_mayPromiseTable);
        _pruneAccept = IsMonotoneInPromise(_mayAcceptTable);
        _permutations = _options.AcceptorSymmetry ? Permutations(_acceptors) : [Enumerable.Range(0, _acceptors).ToArray()];
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
        var proposers = new Slot[_proposers];
        Array.Fill(proposers, new Slot(0, ProposerPhase.Idle, 0, []));
        return Make(new int[3 * _acceptors], proposers, [], []);
    }

    /// <summary>Every transition enabled in <paramref name="s"/>, with the state it leads to.</summary>
    public List<(ModelTransition Transition, SingleDecreeState Next)> Successors(SingleDecreeState s)
    {
        var result = new List<(ModelTransition, SingleDecreeState)>();
        var (acceptors, proposers, network, votes) = Decode(s);

        for (int p = 0; p < _proposers; p++)
        {
            Slot proposer = proposers[p];
            int id = p + 1;

            // Start the next ballot, whatever the current one is doing (a timeout and retry higher).
            if (proposer.Started < _options.BallotsPerProposer[p])
            {
                int ballot = BallotIndex(proposer.Started + 1, id);
                var next = new Slot(proposer.Started + 1, ProposerPhase.Preparing, 0, []);
                result.Add((new StartBallot(id, _ballots[ballot]),
                    Make(acceptors, With(proposers, p, next), Add(network, MessageCode(MessageKind.Prepare, ballot, 0, 0, 0)), votes)));
            }

            // Phase 2a once a quorum of acceptors has promised the current ballot. Not forced: the proposer may
            // also wait for more promises (any superset of a quorum) or abandon the ballot.
            if (proposer.Phase == ProposerPhase.Preparing && DistinctSenders(proposer.Promises) >= _quorum)
            {
                var reported = new List<(Ballot Ballot, string Value)>();
                foreach (int c in proposer.Promises)
                {
                    if (PromiseValue(c) != 0)
                    {
                        reported.Add((_ballots[PromiseBallot(c)], _values[PromiseValue(c)]!));
                    }
                }
                string value = _options.ValueRule(_values[id]!, reported);
                int v = ValueIndex(value);
                int ballot = BallotIndex(proposer.Started, id);
                var next = new Slot(proposer.Started, ProposerPhase.Accepting, v, proposer.Promises);
                result.Add((new SendAccept(id, _ballots[ballot], value),
                    Make(acceptors, With(proposers, p, next), Add(network, MessageCode(MessageKind.Accept, ballot, 0, 0, v)), votes)));
            }
        }

        foreach (int m in network)
        {
            Message message = ToMessage(m);
            int[] without = Remove(network, m);
            MessageKind kind = (MessageKind)(m & 3);
            int ballot = MessageBallot(m);

            if (_options.Loss)
            {
                result.Add((new Drop(message), Make(acceptors, proposers, without, votes)));
            }

            if (kind == MessageKind.Promise)
            {
                // A live Promise is for its owner's current, Preparing ballot and not yet collected; once collected
                // a kept copy would be dead, so keeping it is the same state as removing it.
                int p = (ballot - 1) % _proposers;
                Slot proposer = proposers[p];
                int collected = PromiseCode(MessageAcceptor(m), MessageAcceptedBallot(m), MessageValue(m));
                var next = new Slot(proposer.Started, proposer.Phase, proposer.Proposed, [.. proposer.Promises, collected]);
                result.Add((new Deliver(message, _proposerNames[p], Keep: false), Make(acceptors, With(proposers, p, next), without, votes)));
                continue;
            }

            // Prepare or Accept, to any one acceptor.
            for (int a = 0; a < _acceptors; a++)
            {
                int promised = acceptors[3 * a], acceptedBallot = acceptors[3 * a + 1], acceptedValue = acceptors[3 * a + 2];
                int[] nextAcceptors = acceptors;
                int[] nextVotes = votes;
                int reply = -1;
                if (kind == MessageKind.Prepare)
                {
                    if (_options.MayPromise(_ballots[promised], _ballots[ballot]))
                    {
                        // Max keeps promises monotonic even under a broken rule; with the real rule it is the ballot.
                        nextAcceptors = WithAcceptor(acceptors, a, Math.Max(promised, ballot), acceptedBallot, acceptedValue);
                        reply = MessageCode(MessageKind.Promise, ballot, a + 1, acceptedBallot, acceptedValue);
                    }
                }
                else if (_options.MayAccept(_ballots[promised], _ballots[ballot]))
                {
                    nextAcceptors = WithAcceptor(acceptors, a, Math.Max(promised, ballot), ballot, MessageValue(m));
                    nextVotes = Add(votes, VoteCode(a + 1, ballot, MessageValue(m))); // Accepted, to the learner
                }
                int[] sent = reply < 0 ? network : Add(network, reply);
                bool noop = ReferenceEquals(nextAcceptors, acceptors) && ReferenceEquals(nextVotes, votes) && ReferenceEquals(sent, network);

                if (!(noop && _options.Loss)) // else the same state as losing it
                {
                    int[] net = reply < 0 ? without : Add(without, reply);
                    result.Add((new Deliver(message, _acceptorNames[a], Keep: false), Make(nextAcceptors, proposers, net, nextVotes)));
                }
                if (_options.Duplication && !noop) // else a self-loop
                {
                    result.Add((new Deliver(message, _acceptorNames[a], Keep: true), Make(nextAcceptors, proposers, sent, nextVotes)));
                }
            }
        }
        return result;
    }

    /// <summary>The values chosen in <paramref name="s"/>: those voted for by a quorum of acceptors in one ballot.</summary>
    public IReadOnlyList<(string Value, Ballot Ballot, int[] Acceptors)> Chosen(SingleDecreeState s) =>
        s.Votes
            .GroupBy(v => (v.Ballot, v.Value))
            .Select(g => (g.Key.Value, g.Key.Ballot, Acceptors: g.Select(v => v.Acceptor).Distinct().Order().ToArray()))
            .Where(x => x.Acceptors.Length >= _quorum)
            .OrderBy(x => x.Ballot)
            .ToList();

    /// <summary>True if some value is chosen in <paramref name="s"/>.</summary>
    public bool AnyChosen(SingleDecreeState s) => ChosenValueMask(s) != 0;

    /// <summary>True if <paramref name="value"/> is chosen in <paramref name="s"/>.</summary>
    public bool IsChosen(SingleDecreeState s, string value) => (ChosenValueMask(s) & 1 << ValueIndex(value)) != 0;

    /// <summary>The safety invariant: at most one value is chosen. Null if it holds, else what went wrong.</summary>
    public string? AtMostOneValueChosen(SingleDecreeState s)
    {
        if (BitOperations.PopCount((uint)ChosenValueMask(s)) <= 1)
        {
            return null;
        }
        return "two different values chosen: " + string.Join(" and ",
            Chosen(s).Select(c => $"{c.Value} in ballot {c.Ballot} by {string.Join(",", c.Acceptors.Select(a => $"A{a}"))}"));
    }

    /// <summary>A one-line description of a state, for traces.</summary>
    public string Describe(SingleDecreeState s)
    {
        var view = View(s);
        var sb = new StringBuilder();
        for (int a = 0; a < view.Acceptors.Length; a++)
        {
            sb.Append($"A{a + 1}[{view.Acceptors[a]}] ");
        }
        for (int p = 0; p < view.Proposers.Length; p++)
        {
            ProposerState x = view.Proposers[p];
            sb.Append($"P{p + 1}[{x.Phase}");
            if (!x.Current.IsZero)
            {
                sb.Append($" {x.Current}");
            }
            if (x.Proposed is not null)
            {
                sb.Append($" value {x.Proposed}");
            }
            if (x.Promises.Count > 0)
            {
                sb.Append(" promises from ").Append(string.Join(",", x.Promises.Select(c => c.From).Distinct().Order().Select(a => $"A{a}")));
            }
            sb.Append("] ");
        }
        sb.Append("network {").Append(string.Join("; ", view.Network)).Append('}');
        var chosen = Chosen(s);
        if (chosen.Count > 0)
        {
            sb.Append(" chosen {").Append(string.Join(", ", chosen.Select(c => $"{c.Value}@{c.Ballot}"))).Append('}');
        }
        return sb.ToString();
    }

    internal (AcceptorState[] Acceptors, ProposerState[] Proposers, Message[] Network, Vote[] Votes) View(SingleDecreeState s)
    {
        var (acceptors, proposers, network, votes) = Decode(s);
        return (
            Enumerable.Range(0, _acceptors)
                .Select(a => new AcceptorState(_ballots[acceptors[3 * a]], _ballots[acceptors[3 * a + 1]], _values[acceptors[3 * a + 2]]))
                .ToArray(),
            proposers
                .Select((x, p) => new ProposerState(x.Started, x.Phase, _ballots[BallotIndex(x.Started, p + 1)], _values[x.Proposed],
                    x.Promises.Select(c => new CollectedPromise(c & 7, _ballots[PromiseBallot(c)], _values[PromiseValue(c)])).ToArray()))
                .ToArray(),
            network.Select(ToMessage).ToArray(),
            votes.Select(c => new Vote(_ballots[c >> 3 & 15], c & 7, _values[c >> 7]!)).ToArray());
    }

    // ---- the compact representation ----

    // A proposer: ballots started (its current ballot is the last), phase, proposed value index, promise codes.
    // (Fields, not properties: the test project builds Debug, where property getters are calls.)
    private readonly struct Slot(int started, ProposerPhase phase, int proposed, int[] promises)
    {
        public readonly int Started = started;
        public readonly ProposerPhase Phase = phase;
        public readonly int Proposed = proposed;
        public readonly int[] Promises = promises;
    }

    private int BallotIndex(int round, int proposer) => round == 0 ? 0 : (round - 1) * _proposers + proposer;

    private int ValueIndex(string value)
    {
        for (int i = 1; i < _values.Length; i++)
        {
            if (string.Equals(_values[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new InvalidOperationException($"Value '{value}' is not a proposer's value.");
    }

    private static int MessageCode(MessageKind kind, int ballot, int acceptor, int acceptedBallot, int value) =>
        (int)kind | ballot << 2 | acceptor << 6 | acceptedBallot << 9 | value << 13;

    private static int MessageBallot(int code) => code >> 2 & 15;

    private static int MessageAcceptor(int code) => code >> 6 & 7;

    private static int MessageAcceptedBallot(int code) => code >> 9 & 15;

    private static int MessageValue(int code) => code >> 13 & 7;

    private static int PromiseCode(int from, int acceptedBallot, int acceptedValue) => from | acceptedBallot << 3 | acceptedValue << 7;

    private static int PromiseBallot(int code) => code >> 3 & 15;

    private static int PromiseValue(int code) => code >> 7 & 7;

    private static int VoteCode(int acceptor, int ballot, int value) => acceptor | ballot << 3 | value << 7;

    private Message ToMessage(int code) => new((MessageKind)(code & 3), _ballots[MessageBallot(code)], MessageAcceptor(code),
        _ballots[MessageAcceptedBallot(code)], _values[MessageValue(code)]);

    // Bit v set if value index v is chosen.
    private int ChosenValueMask(SingleDecreeState s)
    {
        string key = s.Key; // vote counts per (ballot, value) do not depend on acceptor names
        int votesStart = VotesStart(key);
        if (key.Length - votesStart < _quorum)
        {
            return 0;
        }
        var count = new int[_ballots.Length * _values.Length];
        int mask = 0;
        for (int i = votesStart; i < key.Length; i++)
        {
            // Votes are a set and carry the acceptor, so this counts distinct acceptors per (ballot, value).
            int ballotAndValue = key[i] >> 3;
            if (++count[(ballotAndValue & 15) * _values.Length + (ballotAndValue >> 4)] == _quorum)
            {
                mask |= 1 << (ballotAndValue >> 4);
            }
        }
        return mask;
    }

    private int VotesStart(string key)
    {
        int i = 3 * _acceptors;
        for (int p = 0; p < _proposers; p++)
        {
            i += 4 + key[i + 3];
        }
        return i + 1 + key[i];
    }

    // The state with its own acceptor names (the key, renamed back).
    private (int[] Acceptors, Slot[] Proposers, int[] Network, int[] Votes) Decode(SingleDecreeState s)
    {
        string key = s.Key;
        int[] renaming = s.Renaming;
        Span<int> name = stackalloc int[_acceptors + 1]; // acceptor j + 1 of the key is acceptor name[j + 1] here
        for (int j = 0; j < _acceptors; j++)
        {
            name[j + 1] = renaming[j] + 1;
        }
        var acceptors = new int[3 * _acceptors];
        for (int j = 0; j < _acceptors; j++)
        {
            int a = renaming[j];
            acceptors[3 * a] = key[3 * j];
            acceptors[3 * a + 1] = key[3 * j + 1];
            acceptors[3 * a + 2] = key[3 * j + 2];
        }
        int at = acceptors.Length;
        var proposers = new Slot[_proposers];
        for (int p = 0; p < _proposers; p++)
        {
            var promises = new int[key[at + 3]];
            for (int i = 0; i < promises.Length; i++)
            {
                int c = key[at + 4 + i];
                promises[i] = c & ~7 | name[c & 7];
            }
            proposers[p] = new Slot(key[at], (ProposerPhase)key[at + 1], key[at + 2], promises);
            at += 4 + promises.Length;
        }
        var network = new int[key[at]];
        for (int i = 0; i < network.Length; i++)
        {
            int m = key[at + 1 + i];
            network[i] = m & ~(7 << 6) | name[MessageAcceptor(m)] << 6;
        }
        at += 1 + network.Length;
        var votes = new int[key.Length - at];
        for (int i = 0; i < votes.Length; i++)
        {
            int v = key[at + i];
            votes[i] = v & ~7 | name[v & 7];
        }
        return (acceptors, proposers, network, votes);
    }

    // Prunes dead messages and builds the canonical key. Written for the test project's Debug build, where the JIT
    // does not optimise (nor inline) this assembly's code: arrays rather than spans, no small helper calls.
    private SingleDecreeState Make(int[] acceptors, Slot[] proposers, int[] network, int[] votes)
    {
        int minPromised = acceptors[0];
        for (int a = 3; a < acceptors.Length; a += 3)
        {
            minPromised = Math.Min(minPromised, acceptors[a]);
        }
        int live = 0;
        foreach (int m in network)
        {
            live += IsLive(m, minPromised, proposers) ? 1 : 0;
        }
        if (live < network.Length)
        {
            var pruned = new int[live];
            int i = 0;
            foreach (int m in network)
            {
                if (IsLive(m, minPromised, proposers))
                {
                    pruned[i++] = m;
                }
            }
            network = pruned;
        }

        int length = acceptors.Length + 1 + network.Length + votes.Length;
        foreach (Slot p in proposers)
        {
            length += 4 + p.Promises.Length;
        }
        var current = new char[length];
        char[]? best = null;
        int[]? renaming = null;
        foreach (int[] permutation in _permutations)
        {
            // The acceptors come first in the key, so the least key lists them in order of their own state: only
            // renamings that sort them need trying (several only when acceptors are in the same state). Without
            // symmetry reduction the identity is the only candidate.
            bool sorted = true;
            for (int j = 1; j < _acceptors && sorted && _options.AcceptorSymmetry; j++)
            {
                int x = 3 * permutation[j - 1], y = 3 * permutation[j];
                int order = acceptors[x] != acceptors[y] ? acceptors[x] - acceptors[y]
                    : acceptors[x + 1] != acceptors[y + 1] ? acceptors[x + 1] - acceptors[y + 1]
                    : acceptors[x + 2] - acceptors[y + 2];
                sorted = order <= 0;
            }
            if (!sorted)
            {
                continue;
            }
            Encode(current, permutation, acceptors, proposers, network, votes);
            if (best is null)
            {
                best = current;
                renaming = permutation;
                current = new char[length];
            }
            else if (current.AsSpan().SequenceCompareTo(best) < 0)
            {
                (best, current) = (current, best);
                renaming = permutation;
            }
        }
        return new SingleDecreeState(this, new string(best), renaming!);
    }

    // Writes the state with acceptor permutation[j] renamed to j + 1; sets are sorted after renaming.
    private void Encode(char[] into, int[] permutation, int[] acceptors, Slot[] proposers, int[] network, int[] votes)
    {
        var renamed = new int[_acceptors + 1];
        for (int j = 0; j < _acceptors; j++)
        {
            renamed[permutation[j] + 1] = j + 1;
        }
        int i = 0;
        for (int j = 0; j < _acceptors; j++)
        {
            int a = 3 * permutation[j];
            into[i++] = (char)acceptors[a];
            into[i++] = (char)acceptors[a + 1];
            into[i++] = (char)acceptors[a + 2];
        }
        foreach (Slot p in proposers)
        {
            into[i++] = (char)p.Started;
            into[i++] = (char)p.Phase;
            into[i++] = (char)p.Proposed;
            into[i++] = (char)p.Promises.Length;
            int start = i;
            foreach (int c in p.Promises)
            {
                into[i++] = (char)(c & ~7 | renamed[c & 7]); // promise code: acceptor in bits 0-2
            }
            SortRange(into, start, i);
        }
        into[i++] = (char)network.Length;
        int networkStart = i;
        foreach (int m in network)
        {
            into[i++] = (char)(m & ~(7 << 6) | renamed[m >> 6 & 7] << 6); // message code: acceptor in bits 6-8
        }
        SortRange(into, networkStart, i);
        int votesStart = i;
        foreach (int v in votes)
        {
            into[i++] = (char)(v & ~7 | renamed[v & 7]); // vote code: acceptor in bits 0-2
        }
        SortRange(into, votesStart, i);
    }

    private static void SortRange(char[] array, int start, int end)
    {
        if (end - start > 1)
        {
            Array.Sort(array, start, end - start);
        }
    }

    // Whether delivering message m could still change anything (see the remarks on the class).
    // (minPromised: the lowest promise of any acceptor, the most permissive one under a monotone rule.)
    private bool IsLive(int m, int minPromised, Slot[] proposers)
    {
        int ballot = m >> 2 & 15;
        switch ((MessageKind)(m & 3))
        {
            case MessageKind.Promise:
                int p = (ballot - 1) % _proposers;
                Slot owner = proposers[p];
                if (owner.Phase != ProposerPhase.Preparing || (owner.Started - 1) * _proposers + p + 1 != ballot)
                {
                    return false;
                }
                int promise = (m >> 6 & 7) | (m >> 9 & 15) << 3 | (m >> 13 & 7) << 7; // PromiseCode of the message
                foreach (int c in owner.Promises)
                {
                    if (c == promise)
                    {
                        return false;
                    }
                }
                return true;
            case MessageKind.Prepare when _prunePrepare:
                return _mayPromiseTable[minPromised * _ballots.Length + ballot];
            case MessageKind.Accept when _pruneAccept:
                return _mayAcceptTable[minPromised * _ballots.Length + ballot];
            default:
                return true;
        }
    }

    // rule(promised, incoming) for every pair of this model's ballots, by index. Only decides liveness cheaply;
    // deliveries call the rules themselves.
    private bool[] Tabulate(AcceptorRule rule)
    {
        var table = new bool[_ballots.Length * _ballots.Length];
        for (int promised = 0; promised < _ballots.Length; promised++)
        {
            for (int incoming = 0; incoming < _ballots.Length; incoming++)
            {
                table[promised * _ballots.Length + incoming] = rule(_ballots[promised], _ballots[incoming]);
            }
        }
        return table;
    }

    // True if a rejection at some promise implies a rejection at every higher promise (indices follow ballot order).
    private bool IsMonotoneInPromise(bool[] rule)
    {
        for (int incoming = 1; incoming < _ballots.Length; incoming++)
        {
            for (int low = 0; low < _ballots.Length; low++)
            {
                for (int high = low; high < _ballots.Length; high++)
                {
                    if (!rule[low * _ballots.Length + incoming] && rule[high * _ballots.Length + incoming])
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static int DistinctSenders(int[] promises)
    {
        int senders = 0;
        foreach (int c in promises)
        {
            senders |= 1 << (c & 7);
        }
        return BitOperations.PopCount((uint)senders);
    }

    private static int[] Add(int[] set, int item) => Array.IndexOf(set, item) >= 0 ? set : [.. set, item];

    private static int[] Remove(int[] set, int item)
    {
        var result = new int[set.Length - 1];
        int i = 0;
        foreach (int x in set)
        {
            if (x != item)
            {
                result[i++] = x;
            }
        }
        return result;
    }

    private static int[] WithAcceptor(int[] acceptors, int a, int promised, int acceptedBallot, int acceptedValue)
    {
        if (acceptors[3 * a] == promised && acceptors[3 * a + 1] == acceptedBallot && acceptors[3 * a + 2] == acceptedValue)
        {
            return acceptors;
        }
        var copy = (int[])acceptors.Clone();
        copy[3 * a] = promised;
        copy[3 * a + 1] = acceptedBallot;
        copy[3 * a + 2] = acceptedValue;
        return copy;
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
