namespace Kv.Txn.Checker;

/// <summary>The kinds of anomaly <see cref="ListAppendChecker"/> reports (names follow Adya and Jepsen's Elle).</summary>
public enum AnomalyKind
{
    /// <summary>Write cycle: a dependency cycle of write-write edges only.</summary>
    G0,

    /// <summary>Aborted read: a committed read observed an element appended by an aborted transaction.</summary>
    G1a,

    /// <summary>Intermediate read: a read ended with an element its writer later followed with another append to the key.</summary>
    G1b,

    /// <summary>Circular information flow: a cycle of write-write and write-read edges, at least one write-read.</summary>
    G1c,

    /// <summary>Single anti-dependency cycle: exactly one read-write edge, the rest write-write or write-read.</summary>
    GSingle,

    /// <summary>Anti-dependency cycle with more than one read-write edge (or none shorter was found).</summary>
    G2,

    /// <summary>Like <see cref="G0"/>, but the cycle needs a real-time edge: a strict-serializability violation.</summary>
    G0Realtime,

    /// <summary>Like <see cref="G1c"/>, but the cycle needs a real-time edge.</summary>
    G1cRealtime,

    /// <summary>Like <see cref="GSingle"/>, but the cycle needs a real-time edge.</summary>
    GSingleRealtime,

    /// <summary>Like <see cref="G2"/>, but the cycle needs a real-time edge.</summary>
    G2Realtime,

    /// <summary>Two reads of one key returned lists neither of which is a prefix of the other: no version order exists.</summary>
    IncompatibleOrder,

    /// <summary>A read returned a list containing one element twice.</summary>
    DuplicateElement,

    /// <summary>A read returned an element that no transaction appended to that key.</summary>
    GarbageElement,

    /// <summary>
    /// A transaction contradicted itself: a read did not show its own earlier appends, or differed from its earlier read
    /// of the key plus its appends since.
    /// </summary>
    Internal,
}
