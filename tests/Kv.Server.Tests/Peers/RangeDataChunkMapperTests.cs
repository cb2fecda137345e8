using Google.Protobuf;
using Kv.Server.Peers;
using Kv.Storage.Ranges;
using Wire = Kv.Proto.V1;

namespace Kv.Server.Tests.Peers;

public sealed class RangeDataChunkMapperTests
{
    [Fact]
    public void AChunk_SurvivesTheWireForm_FieldForField()
    {
        var chunk = RangeSnapshotChunk.Create(5, isLast: true, [new([1, 0, 2], [3]), new([1, 0, 3], []), new([0xFF], [0, 0])]);

        var back = RangeDataChunkMapper.FromProto(Wire.RangeDataChunk.Parser.ParseFrom(RangeDataChunkMapper.ToProto(chunk).ToByteArray()));

        Assert.Equal(chunk.Index, back.Index);
        Assert.Equal(chunk.IsLast, back.IsLast);
        Assert.Equal(chunk.Crc32c, back.Crc32c);
        Assert.Equal(chunk.Pairs.Select(p => (p.Key, p.Value)), back.Pairs.Select(p => (p.Key, p.Value)));
        Assert.True(back.HasValidChecksum);
    }

    [Fact]
    public void AnIndexBeyondInt32_IsInvalidData()
    {
        var wire = new Wire.RangeDataChunk { Index = (uint)int.MaxValue + 1, IsLast = true };

        Assert.Throws<InvalidDataException>(() => RangeDataChunkMapper.FromProto(wire));
    }
}
