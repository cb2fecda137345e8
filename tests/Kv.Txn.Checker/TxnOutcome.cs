namespace Kv.Txn.Checker;

/// <summary>What the client that ran a transaction knows about how it ended.</summary>
public enum TxnOutcome
{
    /// <summary>The database acknowledged the commit.</summary>
    Committed,

    /// <summary>The database reported that the transaction aborted; none of its appends may ever be visible.</summary>
    Aborted,

    /// <summary>
    /// The client does not know (for example the commit timed out): the transaction may or may not have committed.
    /// Its reads are not trusted; its appends count as committed only once some committed read observes one of them.
    /// </summary>
    Unknown,
}
