using Google.Protobuf;
using Grpc.Core;
using Kv.Server.Configuration;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Api;

/// <summary>
/// Checks client requests before anything is proposed or read, and throws the status that names the first offending
/// field: INVALID_ARGUMENT with an <c>InvalidArgument</c> detail. Prefix arguments qualify field names inside a batch
/// (<c>operations[2].put.</c>).
/// </summary>
internal sealed class KvRequestValidator(NodeOptions nodeOptions, KvApiLimits limits)
{
    /// <summary>Checks a get.</summary>
    public void Get(Wire.GetRequest request, string prefix = "")
    {
        Key(request.Key, prefix + "key");
        Consistency(request.Consistency, request.ReadTimestamp, prefix);
    }

    /// <summary>Checks a put.</summary>
    public void Put(Wire.PutRequest request, string prefix = "")
    {
        Key(request.Key, prefix + "key");
        Value(request.Value, prefix + "value");
        WriteId(request.WriteId, prefix + "write_id");
    }

    /// <summary>Checks a delete.</summary>
    public void Delete(Wire.DeleteRequest request, string prefix = "")
    {
        Key(request.Key, prefix + "key");
        WriteId(request.WriteId, prefix + "write_id");
    }

    /// <summary>Checks a compare-and-set: a key, exactly one meaningful condition, sizes, the write id.</summary>
    public void CompareAndSet(Wire.CompareAndSetRequest request)
    {
        Key(request.Key, "key");
        switch (request.ConditionCase)
        {
            case Wire.CompareAndSetRequest.ConditionOneofCase.None:
                throw KvErrors.InvalidArgument("condition", "exactly one of expect_absent, expected_version, expected_value must be set");
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectAbsent when !request.ExpectAbsent:
                throw KvErrors.InvalidArgument("expect_absent",
                    "must be true when set; to require a present key, use expected_version or expected_value");
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectedVersion:
                Version(request.ExpectedVersion, "expected_version");
                break;
            case Wire.CompareAndSetRequest.ConditionOneofCase.ExpectedValue:
                Value(request.ExpectedValue, "expected_value");
                break;
        }
        if (request.HasNewValue) Value(request.NewValue, "new_value");
        WriteId(request.WriteId, "write_id");
    }

    /// <summary>
    /// Checks a scan. Its bounds may be one byte longer than a key, so that a forward <c>resume_key</c> (the key
    /// after a maximal last key: that key and a 0 byte) is a valid start.
    /// </summary>
    public void Scan(Wire.ScanRequest request)
    {
        int boundBytesMax = nodeOptions.KeyBytesMax + 1;
        if (request.StartKey.Length > boundBytesMax)
            throw KvErrors.InvalidArgument("start_key", $"{request.StartKey.Length} bytes; at most {boundBytesMax}");
        if (request.EndKey.Length > boundBytesMax)
            throw KvErrors.InvalidArgument("end_key", $"{request.EndKey.Length} bytes; at most {boundBytesMax}");
        if (request.EndKey.Length > 0 && request.StartKey.Span.SequenceCompareTo(request.EndKey.Span) >= 0)
            throw KvErrors.InvalidArgument("end_key", "must be above start_key (or empty for no upper bound)");
        if (request.Limit > limits.ScanLimitMax)
            throw KvErrors.InvalidArgument("limit", $"{request.Limit}; at most {limits.ScanLimitMax} (0 for the default {limits.ScanLimitDefault})");
        Consistency(request.Consistency, request.ReadTimestamp, "");
    }

    /// <summary>Checks every operation of a batch before any is applied.</summary>
    public void Batch(Wire.BatchRequest request)
    {
        OperationCount(request.Operations.Count);
        for (int i = 0; i < request.Operations.Count; i++) Operation(request.Operations[i], i);
    }

    /// <summary>Checks a bundle's size; each operation is checked on its own (<see cref="Operation"/>), as its own call would be.</summary>
    public void Bundle(Wire.BundleRequest request) => OperationCount(request.Operations.Count);

    /// <summary>Checks operation <paramref name="index"/> of a batch or bundle; the error names it by position.</summary>
    public void Operation(Wire.BatchOperation op, int index)
    {
        string prefix = $"operations[{index}].";
        switch (op.OpCase)
        {
            case Wire.BatchOperation.OpOneofCase.Get:
                Get(op.Get, prefix + "get.");
                break;
            case Wire.BatchOperation.OpOneofCase.Put:
                Put(op.Put, prefix + "put.");
                break;
            case Wire.BatchOperation.OpOneofCase.Delete:
                Delete(op.Delete, prefix + "delete.");
                break;
            default:
                throw KvErrors.InvalidArgument($"operations[{index}]", "no operation set (one of get, put, delete)");
        }
    }

    private void OperationCount(int count)
    {
        if (count > limits.BatchOperationsMax)
            throw KvErrors.InvalidArgument("operations", $"{count} operations; at most {limits.BatchOperationsMax}");
    }

    /// <summary>Checks a transactional read.</summary>
    public void TxnRead(Wire.TxnReadRequest request)
    {
        Key(request.Key, "key");
        if (request.ReadTimestamp is null) throw KvErrors.InvalidArgument("read_timestamp", "required (from Begin)");
        Version(request.ReadTimestamp, "read_timestamp");
    }

    /// <summary>Checks a transactional scan: bounds as for a scan, and the read timestamp.</summary>
    public void TxnScan(Wire.TxnScanRequest request)
    {
        Scan(new Wire.ScanRequest { StartKey = request.StartKey, EndKey = request.EndKey, Limit = request.Limit, Reverse = request.Reverse });
        if (request.ReadTimestamp is null) throw KvErrors.InvalidArgument("read_timestamp", "required (from Begin)");
        Version(request.ReadTimestamp, "read_timestamp");
    }

    /// <summary>Checks a commit's sizes and shape (the coordinator checks what depends on its rules).</summary>
    public void Commit(Wire.CommitTransactionRequest request)
    {
        if (request.TxnId.Length != Kv.Storage.Mvcc.TxnId.Size)
            throw KvErrors.InvalidArgument("txn_id", $"{request.TxnId.Length} bytes; a transaction id has {Kv.Storage.Mvcc.TxnId.Size}");
        if (request.ReadTimestamp is null) throw KvErrors.InvalidArgument("read_timestamp", "required (from Begin)");
        Version(request.ReadTimestamp, "read_timestamp");
        if (request.Writes.Count + request.Reads.Count > Kv.Txn.TxnLimits.KeysMax)
            throw KvErrors.InvalidArgument("writes", $"{request.Writes.Count} writes and {request.Reads.Count} reads; at most {Kv.Txn.TxnLimits.KeysMax} keys in all");
        for (int i = 0; i < request.Writes.Count; i++)
        {
            Key(request.Writes[i].Key, $"writes[{i}].key");
            Value(request.Writes[i].Value, $"writes[{i}].value");
        }
        for (int i = 0; i < request.Reads.Count; i++)
        {
            Key(request.Reads[i].Key, $"reads[{i}].key");
            if (request.Reads[i].Version is { } v && (v.WallNanos < 0 || v.Logical < 0))
                throw KvErrors.InvalidArgument($"reads[{i}].version", "negative");
        }
        for (int i = 0; i < request.SpanReads.Count; i++)
        {
            var span = request.SpanReads[i];
            if (span.StartKey.Length > nodeOptions.KeyBytesMax + 1 || span.EndKey.Length > nodeOptions.KeyBytesMax + 1)
                throw KvErrors.InvalidArgument($"span_reads[{i}]", $"a bound is longer than {nodeOptions.KeyBytesMax + 1} bytes");
            if (!span.EndKey.IsEmpty && span.StartKey.Span.SequenceCompareTo(span.EndKey.Span) >= 0)
                throw KvErrors.InvalidArgument($"span_reads[{i}].end_key", "must be above start_key (or empty for no upper bound)");
        }
        if (!Enum.IsDefined(request.Protocol)) throw KvErrors.InvalidArgument("protocol", $"unknown value {(int)request.Protocol}");
    }

    /// <summary>Checks one part of a client-staged commit: the part as a commit, the home key, the commit timestamp, the manifest's keys.</summary>
    public void TxnStage(Wire.TxnStageRequest request)
    {
        if (request.Part is null) throw KvErrors.InvalidArgument("part", "required (the transaction's writes and reads in one range)");
        Commit(request.Part);
        Key(request.HomeKey, "home_key");
        if (request.CommitTimestamp is null) throw KvErrors.InvalidArgument("commit_timestamp", "required (the same in every part)");
        Version(request.CommitTimestamp, "commit_timestamp");
        if (request.ManifestKeys.Count > Kv.Txn.TxnLimits.KeysMax)
            throw KvErrors.InvalidArgument("manifest_keys", $"{request.ManifestKeys.Count} keys; at most {Kv.Txn.TxnLimits.KeysMax}");
        for (int i = 0; i < request.ManifestKeys.Count; i++) Key(request.ManifestKeys[i], $"manifest_keys[{i}]");
    }

    /// <summary>Checks the end of a client-staged commit.</summary>
    public void TxnFinish(Wire.TxnFinishRequest request)
    {
        if (request.TxnId.Length != Kv.Storage.Mvcc.TxnId.Size)
            throw KvErrors.InvalidArgument("txn_id", $"{request.TxnId.Length} bytes; a transaction id has {Kv.Storage.Mvcc.TxnId.Size}");
        Key(request.HomeKey, "home_key");
        if (request.CommitTimestamp is null) throw KvErrors.InvalidArgument("commit_timestamp", "required (the one every part was staged at)");
        Version(request.CommitTimestamp, "commit_timestamp");
        if (request.Keys.Count > Kv.Txn.TxnLimits.KeysMax)
            throw KvErrors.InvalidArgument("keys", $"{request.Keys.Count} keys; at most {Kv.Txn.TxnLimits.KeysMax}");
        for (int i = 0; i < request.Keys.Count; i++) Key(request.Keys[i], $"keys[{i}]");
        if (request.Outcome is not (Wire.TxnFinishRequest.Types.Outcome.FinishStaged or Wire.TxnFinishRequest.Types.Outcome.FinishRefused
            or Wire.TxnFinishRequest.Types.Outcome.FinishUnknown))
            throw KvErrors.InvalidArgument("outcome", $"{request.Outcome} is not how a commit ends (STAGED, REFUSED or UNKNOWN)");
    }

    private void Key(ByteString key, string field)
    {
        if (key.IsEmpty) throw KvErrors.InvalidArgument(field, "must not be empty");
        if (key.Length > nodeOptions.KeyBytesMax)
            throw KvErrors.InvalidArgument(field, $"{key.Length} bytes; at most {nodeOptions.KeyBytesMax}");
    }

    private void Value(ByteString value, string field)
    {
        if (value.Length > nodeOptions.ValueBytesMax)
            throw KvErrors.InvalidArgument(field, $"{value.Length} bytes; at most {nodeOptions.ValueBytesMax}");
    }

    private static void Version(Wire.Timestamp version, string field)
    {
        if (version.WallNanos < 0 || version.Logical < 0 || (version.WallNanos == 0 && version.Logical == 0))
            throw KvErrors.InvalidArgument(field, $"{version.WallNanos}.{version.Logical} is not a version (a positive timestamp)");
    }

    private static void WriteId(Wire.WriteId? writeId, string field)
    {
        if (writeId is null) return;
        if (writeId.ClientId > long.MaxValue)
            throw KvErrors.InvalidArgument(field + ".client_id", $"{writeId.ClientId}; at most {long.MaxValue}");
        if (writeId.Sequence > long.MaxValue)
            throw KvErrors.InvalidArgument(field + ".sequence", $"{writeId.Sequence}; at most {long.MaxValue}");
    }

    private static void Consistency(Wire.ReadConsistency consistency, Wire.Timestamp? readTimestamp, string prefix)
    {
        switch (consistency)
        {
            case Wire.ReadConsistency.Linearizable:
            case Wire.ReadConsistency.Serializable:
                // A serializable read takes whatever the replica has applied: a timestamp would promise a snapshot it does not keep.
                if (readTimestamp is not null)
                    throw KvErrors.InvalidArgument(prefix + "read_timestamp",
                        $"only with READ_CONSISTENCY_SNAPSHOT (this read is {(consistency == Wire.ReadConsistency.Serializable ? "SERIALIZABLE" : "LINEARIZABLE")}); "
                        + "leave it unset, or ask for SNAPSHOT to read at a timestamp");
                break;
            case Wire.ReadConsistency.Snapshot:
                // Unset: the node picks its clock's now (and a scan answers with it, for the next pages).
                if (readTimestamp is not null) Version(readTimestamp, prefix + "read_timestamp");
                break;
            default:
                throw KvErrors.InvalidArgument(prefix + "consistency", $"unknown value {(int)consistency}");
        }
    }
}
