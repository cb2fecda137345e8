using Grpc.Core;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Api;

/// <summary>Assertions on the API's statuses and their details.</summary>
internal static class KvAssert
{
    /// <summary>The call fails with <paramref name="code"/>; returns its google.rpc.Status (never null).</summary>
    public static async Task<Google.Rpc.Status> FailsWithAsync(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(e.StatusCode == code, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        var status = e.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal((int)code, status.Code);
        return status;
    }

    /// <summary>The call fails with INVALID_ARGUMENT naming <paramref name="field"/>; returns the detail.</summary>
    public static async Task<Wire.InvalidArgument> InvalidArgumentAsync(string field, Func<Task> call)
    {
        var status = await FailsWithAsync(StatusCode.InvalidArgument, call);
        var detail = status.GetDetail<Wire.InvalidArgument>();
        Assert.NotNull(detail);
        Assert.Equal(field, detail.Field);
        Assert.False(string.IsNullOrWhiteSpace(detail.Reason));
        return detail;
    }

    /// <summary>The call fails with FAILED_PRECONDITION and a NotLeader detail; returns the detail.</summary>
    public static async Task<Wire.NotLeader> NotLeaderAsync(Func<Task> call)
    {
        var status = await FailsWithAsync(StatusCode.FailedPrecondition, call);
        var detail = status.GetDetail<Wire.NotLeader>();
        Assert.NotNull(detail);
        return detail;
    }
}
