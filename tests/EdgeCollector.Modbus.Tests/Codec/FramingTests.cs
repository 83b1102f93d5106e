using System.Buffers;
using static EdgeCollector.Modbus.Tests.Codec.Hex;

namespace EdgeCollector.Modbus.Tests.Codec;

public sealed class FramingTests
{
    [Theory]
    [InlineData("01 03 00 00 00 0A", 0xCDC5)] // brief / Serial Line guide example: CRC bytes C5 CD
    [InlineData("01 03 00 6B 00 03", 0x1774)] // 74 17 on the wire
    [InlineData("", 0xFFFF)]
    public void Crc16_matches_known_values(string hex, int crc)
    {
        Assert.Equal((ushort)crc, ModbusCrc.Compute(Bytes(hex)));
    }

    [Fact]
    public void Crc_is_sent_low_byte_first()
    {
        var buffer = new byte[256];
        int n = ModbusRtuCodec.WriteRequest(1, ModbusRequest.ReadHoldingRegisters(0, 10), buffer);
        Assert.Equal("01 03 00 00 00 0A C5 CD", Of(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void Tcp_request_golden_bytes()
    {
        var buffer = new byte[260];
        int n = ModbusTcpCodec.WriteRequest(0x0001, 0x11, ModbusRequest.ReadHoldingRegisters(0x6B, 3), buffer);
        Assert.Equal("00 01 00 00 00 06 11 03 00 6B 00 03", Of(buffer.AsSpan(0, n)));
    }

    public static TheoryData<string, bool> TcpFrames => new()
    {
        { "00 01 00 00 00 06 11 03 00 6B 00 03", true },
        { "12 34 00 00 00 0B 01 10 00 01 00 02 04 00 0A 01 02", true },
        { "00 01 00 00 00 09 11 03 06 02 2B 00 00 00 64", false },
        { "00 07 00 00 00 03 01 83 02", false },
        { "00 07 00 00 00 06 01 05 00 AC FF 00", false },
    };

    [Theory]
    [MemberData(nameof(TcpFrames))]
    public void Tcp_every_prefix_needs_more_and_the_whole_frame_reads_exactly(string hex, bool isRequest)
    {
        byte[] frame = Bytes(hex);
        for (int i = 0; i < frame.Length; i++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame, 0, i));
            Assert.False(isRequest ? ModbusTcpCodec.TryReadRequest(ref reader, out _) : ModbusTcpCodec.TryReadResponse(ref reader, out _));
            Assert.Equal(0, reader.Consumed);
        }

        // Whole frame plus the start of the next: exactly one frame is consumed, also when split across segments.
        byte[] withTail = [.. frame, 0x00, 0x01];
        foreach (var sequence in new[] { new ReadOnlySequence<byte>(withTail), Segmented(withTail, 3) })
        {
            var reader = new SequenceReader<byte>(sequence);
            Assert.True(isRequest ? ModbusTcpCodec.TryReadRequest(ref reader, out _) : ModbusTcpCodec.TryReadResponse(ref reader, out _));
            Assert.Equal(frame.Length, reader.Consumed);
        }
    }

    [Fact]
    public void Tcp_response_is_decoded_with_transaction_and_unit()
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("AB CD 00 00 00 09 11 03 06 02 2B 00 00 00 64")));
        Assert.True(ModbusTcpCodec.TryReadResponse(ref reader, out var frame));
        Assert.Equal(0xABCD, frame.TransactionId);
        Assert.Equal(0x11, frame.UnitId);
        Assert.Equal(new ushort[] { 555, 0, 100 }, frame.Message.Registers);
    }

    [Theory]
    [InlineData("00 01 00 01 00 06 11 03 00 6B 00 03", "Protocol id")]
    [InlineData("00 01 00 00 00 01 11", "MBAP length")]
    [InlineData("00 01 00 00 01 00 11 03", "MBAP length")]
    public void Tcp_bad_header_throws_and_consumes_nothing(string hex, string text)
    {
        var ex = Assert.Throws<ModbusProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(hex)));
            try
            {
                ModbusTcpCodec.TryReadRequest(ref reader, out _);
            }
            finally
            {
                Assert.Equal(0, reader.Consumed);
            }
        });
        Assert.Contains(text, ex.Message, StringComparison.Ordinal);
        Assert.Contains("§3.1.3", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.FrameLength);
    }

    [Fact]
    public void Tcp_well_framed_bad_request_tells_the_server_how_to_answer()
    {
        var ex = Assert.Throws<ModbusProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("00 05 00 00 00 06 09 03 00 00 00 7E")));
            ModbusTcpCodec.TryReadRequest(ref reader, out _);
        });
        Assert.Equal(12, ex.FrameLength);
        Assert.Equal(5, ex.TransactionId);
        Assert.Equal(9, ex.UnitId);
        Assert.Equal(ModbusExceptionCode.IllegalDataValue, ex.ExceptionCode);
        Assert.Equal(3, ex.FunctionCode);
    }

    public static TheoryData<string, bool> RtuFrames => new()
    {
        { "01 03 00 00 00 0A", true },
        { "11 10 00 01 00 02 04 00 0A 01 02", true },
        { "11 0F 00 13 00 0A 02 CD 01", true },
        { "11 03 06 02 2B 00 00 00 64", false },
        { "11 01 03 CD 6B 05", false },
        { "11 83 02", false },
        { "11 06 00 01 00 03", false },
    };

    [Theory]
    [MemberData(nameof(RtuFrames))]
    public void Rtu_every_prefix_needs_more_and_the_whole_frame_reads_exactly(string hexWithoutCrc, bool isRequest)
    {
        byte[] body = Bytes(hexWithoutCrc);
        ushort crc = ModbusCrc.Compute(body);
        byte[] frame = [.. body, (byte)crc, (byte)(crc >> 8)];
        for (int i = 0; i < frame.Length; i++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame, 0, i));
            Assert.False(isRequest ? ModbusRtuCodec.TryReadRequest(ref reader, out _) : ModbusRtuCodec.TryReadResponse(ref reader, out _));
            Assert.Equal(0, reader.Consumed);
        }

        byte[] withTail = [.. frame, 0x01, 0x03];
        foreach (var sequence in new[] { new ReadOnlySequence<byte>(withTail), Segmented(withTail, 2) })
        {
            var reader = new SequenceReader<byte>(sequence);
            Assert.True(isRequest ? ModbusRtuCodec.TryReadRequest(ref reader, out var rq) : ModbusRtuCodec.TryReadResponse(ref reader, out _));
            Assert.Equal(frame.Length, reader.Consumed);
        }
    }

    [Fact]
    public void Rtu_crc_mismatch_throws_and_consumes_nothing()
    {
        var ex = Assert.Throws<ModbusProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes("01 03 00 00 00 0A C5 CE")));
            try
            {
                ModbusRtuCodec.TryReadRequest(ref reader, out _);
            }
            finally
            {
                Assert.Equal(0, reader.Consumed);
            }
        });
        Assert.Contains("CRC", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Modbus over Serial Line v1.02 §2.5.1.2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("F8 03 00 00 00 01")] // reserved address
    [InlineData("01 47 00 00")]       // unknown function: no length
    public void Rtu_unframeable_input_throws(string hex)
    {
        Assert.Throws<ModbusProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(hex)));
            ModbusRtuCodec.TryReadRequest(ref reader, out _);
        });
    }

    internal static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        Segment? first = null, last = null;
        for (int i = 0; i < data.Length; i += segmentSize)
        {
            var memory = data.AsMemory(i, Math.Min(segmentSize, data.Length - i));
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
