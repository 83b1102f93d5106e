using System.Buffers;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Tests.Encoding;

public sealed class DecoderLimitTests
{
    private static byte[] Encode(Action<UaBinaryWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new UaBinaryWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static long AllocatedWhile(Action action)
    {
        action();
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Oversized_string_length_is_refused_before_allocating()
    {
        var bytes = Encode(w => w.WriteInt32(int.MaxValue));
        long allocated = AllocatedWhile(() =>
        {
            var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadString());
            Assert.Contains("OPC 10000-6 §5.2.2.4", ex.Message);
            Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, ex.Status);
        });
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void String_longer_than_the_data_is_refused()
    {
        var bytes = Encode(w => { w.WriteInt32(1000); w.WriteRaw("abc"u8); });
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadString());
        Assert.Equal(StatusCodes.BadDecodingError, ex.Status);
    }

    [Fact]
    public void Oversized_array_length_is_refused_before_allocating()
    {
        var huge = Encode(w => { w.WriteByte(0x8B); w.WriteInt32(50_000_000); });
        var moreThanData = Encode(w => { w.WriteByte(0x8B); w.WriteInt32(50_000); });
        long allocated = AllocatedWhile(() =>
        {
            var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(huge).ReadVariant());
            Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, ex.Status);
            Assert.Contains("§5.2.5", ex.Message);
            Assert.Throws<UaDecodingException>(() => new UaBinaryReader(moreThanData).ReadVariant());
        });
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void ByteString_limit_is_configurable()
    {
        var bytes = Encode(w => w.WriteByteString(new byte[100]));
        var limits = UaDecodingLimits.Default with { MaxByteStringLength = 99 };
        Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes, limits).ReadByteString());
        Assert.Equal(100, new UaBinaryReader(bytes).ReadByteString()!.Length);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused()
    {
        // Variant[1] { Variant[1] { ... } } 100 deep.
        var bytes = Encode(w =>
        {
            for (var i = 0; i < 100; i++)
            {
                w.WriteByte(0x80 | 24);
                w.WriteInt32(1);
            }

            w.WriteByte(0);
        });
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadVariant());
        Assert.Equal(StatusCodes.BadEncodingLimitsExceeded, ex.Status);
        var deep = new UaBinaryReader(bytes, UaDecodingLimits.Default with { MaxNestingDepth = 200 }).ReadVariant();
        Assert.True(deep.IsArray);
    }

    [Fact]
    public void Nested_diagnostic_info_is_bounded()
    {
        var bytes = Encode(w =>
        {
            for (var i = 0; i < 1000; i++)
                w.WriteByte(0x40);
            w.WriteByte(0);
        });
        Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadDiagnosticInfo());
    }

    [Fact]
    public void Message_larger_than_MaxMessageSize_is_refused()
    {
        var limits = UaDecodingLimits.Default with { MaxMessageSize = 10 };
        Assert.Throws<UaDecodingException>(() => new UaBinaryReader(new byte[11], limits));
    }

    [Theory]
    [InlineData(new byte[] { 0x1A })]
    [InlineData(new byte[] { 0x3F })]
    [InlineData(new byte[] { 0x40 | 6 })]
    [InlineData(new byte[] { 24 })]
    public void Invalid_variant_masks_are_refused(byte[] bytes)
    {
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadVariant());
        Assert.Contains("OPC 10000-6", ex.Message);
    }
}
