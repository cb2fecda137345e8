using Kv.Client;
using Kv.Txn.Checker;

namespace Kv.Server.Tests.Txn;

/// <summary>Records the outcome of one attempt of an SDK transaction body (which commits itself) in a history.</summary>
internal static class SdkTxnRecording
{
    /// <summary>
    /// Runs <paramref name="attempt"/>, which ends with the commit: committed if it returns, aborted on a conflict
    /// (rethrown, so that RunTransactionAsync runs the body again), unknown on anything else (rethrown).
    /// </summary>
    public static async Task RecordAsync(TxnRecorder record, Func<Task> attempt)
    {
        try
        {
            await attempt();
            record.Complete(TxnOutcome.Committed);
        }
        catch (KvTransactionConflictException)
        {
            record.Complete(TxnOutcome.Aborted);
            throw;
        }
        catch (Exception)
        {
            record.Complete(TxnOutcome.Unknown);
            throw;
        }
    }
}
