using Kv.Storage.Encoding;

namespace Kv.Storage.Mvcc;

/// <summary>A key's staged version, as written by <see cref="MvccStore.Stage"/>.</summary>
/// <param name="TxnId">The transaction that staged it.</param>
/// <param name="ProvisionalTimestamp">The transaction's provisional timestamp.</param>
/// <param name="IsTombstone">True when the transaction deletes the key.</param>
/// <param name="Value">The staged value; empty for a tombstone.</param>
public readonly record struct StagedVersion(TxnId TxnId, Timestamp ProvisionalTimestamp, bool IsTombstone, byte[] Value);
