using System.Buffers;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Tests.Transport;

public sealed class FramingTests
{
    private static readonly byte[] Hello = new UaHello
    {
        ReceiveBufferSize = 65535, SendBufferSize = 65535, MaxMessageSize = 0, MaxChunkCount = 0, EndpointUrl = "opc.tcp://127.0.0.1:4840",
    }.ToBytes();

    [Fact]
    public void Every_prefix_of_a_chunk_needs_more()
    {
        for (var n = 0; n < Hello.Length; n++)
        {
            var buffer = new ReadOnlySequence<byte>(Hello.AsMemory(0, n));
            Assert.False(UaTcpFraming.TryReadChunk(ref buffer, 65535, out var chunk), $"prefix {n}");
            Assert.Null(chunk);
            Assert.Equal(n, buffer.Length);
        }

        var whole = new ReadOnlySequence<byte>([.. Hello, .. Hello]);
        Assert.True(UaTcpFraming.TryReadChunk(ref whole, 65535, out var first));
        Assert.Equal(UaMessageType.Hello, first!.MessageType);
        Assert.Equal(Hello.Length, whole.Length);
        var decoded = UaHello.Decode(first.Data);
        Assert.Equal("opc.tcp://127.0.0.1:4840", decoded.EndpointUrl);
    }

    [Fact]
    public void Chunk_larger_than_the_receive_buffer_is_refused_from_its_header()
    {
        byte[] header = [(byte)'M', (byte)'S', (byte)'G', (byte)'F', 0, 0, 0, 0x7F];
        var buffer = new ReadOnlySequence<byte>(header);
        var ex = Assert.Throws<UaDecodingException>(() => UaTcpFraming.TryReadChunk(ref buffer, 65535, out _));
        Assert.Equal(StatusCodes.BadTcpMessageTooLarge, ex.Status);
        Assert.Contains("OPC 10000-6 §7.1.2.2", ex.Message);
    }

    [Theory]
    [InlineData("XYZF")]
    [InlineData("MSGX")]
    [InlineData("OPNC")]
    public void Bad_message_or_chunk_types_are_refused(string head)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(head).Concat(new byte[] { 8, 0, 0, 0 }).ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        var ex = Assert.Throws<UaDecodingException>(() => UaTcpFraming.TryReadChunk(ref buffer, 65535, out _));
        Assert.Equal(StatusCodes.BadTcpMessageTypeInvalid, ex.Status);
    }

    [Fact]
    public void Hello_with_tiny_buffers_is_refused()
    {
        var bytes = new UaHello { ReceiveBufferSize = 1024, SendBufferSize = 65535 }.ToBytes();
        Assert.Throws<UaDecodingException>(() => UaHello.Decode(bytes));
    }

    [Fact]
    public void Error_message_round_trips()
    {
        var bytes = new UaError(StatusCodes.BadTcpEndpointUrlInvalid, "no such endpoint").ToBytes();
        Assert.Equal("ERRF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        var error = UaError.DecodeBody(bytes.AsSpan(8));
        Assert.Equal(StatusCodes.BadTcpEndpointUrlInvalid, error.Error);
        Assert.Equal("no such endpoint", error.Reason);
    }
}
