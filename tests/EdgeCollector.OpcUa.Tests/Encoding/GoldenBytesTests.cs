using System.Buffers;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Tests.Encoding;

/// <summary>
/// Messages captured from node-opcua 2.x (client and server, SecurityPolicy None) with
/// peers/capture-golden.js: we decode them and our encoder reproduces them byte for byte.
/// </summary>
public sealed class GoldenBytesTests
{
    // node-opcua client Hello to opc.tcp://127.0.0.1:48124/golden.
    private const string Hello = "48454c46400000000000000000000a0000000a000000000000000000200000006f70632e7463703a2f2f3132372e302e302e313a34383132342f676f6c64656e";

    // node-opcua client OpenSecureChannel (Issue, None) - the asymmetric chunk.
    private const string OpenSecureChannel = "4f504e4684000000000000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572697479506f6c696379234e6f6e65ffffffffffffffff01000000010000000100be010000702b54d1c779dd010100000000000000ffffffff983a0000000000000000000000000001000000ffffffffc0270900";

    // node-opcua server Read response: one Double 42.5 with source and server timestamps.
    private const string ReadResponseChunk = "4d5347465a0000000100000001000000050000000500000001007a02500b76d1c779dd0105000000000000000000000000000000010000003d0b00000000004045404fe344d1c779dd01ac0dbb1676d1c779dd01d80e00000000";

    private static byte[] Encode(Action<UaBinaryWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new UaBinaryWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static UaChunk Frame(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(UaTcpFraming.TryReadChunk(ref sequence, 1 << 20, out var chunk));
        Assert.Equal(0, sequence.Length);
        return chunk!;
    }

    [Fact]
    public void Hello_from_node_opcua_decodes_and_reencodes_identically()
    {
        var chunk = Frame(Hello);
        Assert.Equal(UaMessageType.Hello, chunk.MessageType);
        var hello = UaHello.Decode(chunk.Data);
        Assert.Equal(0u, hello.ProtocolVersion);
        Assert.Equal("opc.tcp://127.0.0.1:48124/golden", hello.EndpointUrl);
        Assert.True(hello.ReceiveBufferSize >= UaTcpFraming.MinBufferSize);
        Assert.Equal(Convert.FromHexString(Hello), hello.ToBytes());
    }

    [Fact]
    public void OpenSecureChannel_request_from_node_opcua_decodes_and_reencodes_identically()
    {
        var chunk = Frame(OpenSecureChannel);
        Assert.Equal(UaMessageType.OpenChannel, chunk.MessageType);
        Assert.Equal((byte)'F', chunk.ChunkType);

        // 08-0B channel id, asymmetric security header, sequence header, then the message (OPC 10000-6 §6.7.2).
        var reader = new UaBinaryReader(chunk.Data.AsSpan(8));
        Assert.Equal(0u, reader.ReadUInt32());
        Assert.Equal(UaUris.SecurityPolicyNone, reader.ReadString());
        Assert.Null(reader.ReadByteString());
        Assert.Null(reader.ReadByteString());
        var sequenceNumber = reader.ReadUInt32();
        var requestId = reader.ReadUInt32();
        Assert.True(sequenceNumber > 0);
        Assert.True(requestId > 0);
        var bodyStart = 8 + reader.Position;
        var request = Assert.IsType<OpenSecureChannelRequest>(reader.ReadMessage());
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(SecurityTokenRequestType.Issue, request.RequestType);
        Assert.Equal(MessageSecurityMode.None, request.SecurityMode);
        Assert.Equal(0u, request.ClientProtocolVersion);
        Assert.True(request.RequestedLifetime > 0);
        Assert.True(request.RequestHeader.AuthenticationToken.IsNull);
        var body = Encode(w => w.WriteMessage(request));
        Assert.Equal(chunk.Data.AsSpan(bodyStart).ToArray(), body);
    }

    [Fact]
    public void Read_response_from_node_opcua_decodes_and_reencodes_identically()
    {
        var chunk = Frame(ReadResponseChunk);
        Assert.Equal(UaMessageType.Message, chunk.MessageType);

        // 08-0B channel id, 0C-0F token id, 10-13 sequence number, 14-17 request id, 18.. message.
        var reader = new UaBinaryReader(chunk.Data.AsSpan(24));
        var response = Assert.IsType<ReadResponse>(reader.ReadMessage());
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(StatusCodes.Good, response.ResponseHeader.ServiceResult);
        var value = Assert.Single(response.Results!);
        Assert.Equal(BuiltInType.Double, value.Value.Type);
        Assert.Equal(42.5, value.Value.Value);
        Assert.True(value.Status.IsGood);
        Assert.NotNull(value.SourceTimestamp);
        Assert.NotNull(value.ServerTimestamp);
        Assert.True(value.SourceTimestamp!.Value.Year >= 2024);
        Assert.Equal(chunk.Data.AsSpan(24).ToArray(), Encode(w => w.WriteMessage(response)));
    }
}
