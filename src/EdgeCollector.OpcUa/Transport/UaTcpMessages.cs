using System.Buffers;
using System.Buffers.Binary;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Transport;

/// <summary>The message types of the UA TCP / UA Secure Conversation header (OPC 10000-6 §7.1.2.2, §6.7.2.2).</summary>
public enum UaMessageType : uint
{
    // Three ASCII bytes, stored little-endian so they compare as the first three wire bytes.
    Hello = 'H' | ('E' << 8) | ('L' << 16),
    Acknowledge = 'A' | ('C' << 8) | ('K' << 16),
    Error = 'E' | ('R' << 8) | ('R' << 16),
    ReverseHello = 'R' | ('H' << 8) | ('E' << 16),
    Message = 'M' | ('S' << 8) | ('G' << 16),
    OpenChannel = 'O' | ('P' << 8) | ('N' << 16),
    CloseChannel = 'C' | ('L' << 8) | ('O' << 16),
}

/// <summary>One received chunk: header fields plus the whole chunk bytes (header included).</summary>
/// <param name="MessageType">HEL, ACK, ERR, MSG, OPN or CLO.</param>
/// <param name="ChunkType">'F' final, 'C' intermediate, 'A' abort.</param>
/// <param name="Data">The full chunk, starting with the 8-byte header.</param>
public sealed record UaChunk(UaMessageType MessageType, byte ChunkType, byte[] Data);

/// <summary>Framing of UA TCP chunks (OPC 10000-6 §7.1.2.2). Pure functions over buffers; no I/O.</summary>
public static class UaTcpFraming
{
    /// <summary>Size of the message header.</summary>
    public const int HeaderSize = 8;

    /// <summary>The smallest buffer size a peer may negotiate (OPC 10000-6 §7.1.2.3).</summary>
    public const int MinBufferSize = 8192;

    /// <summary>Maximum length of the EndpointUrl in Hello and of Reason in Error (OPC 10000-6 §7.1.2.3, §7.1.2.5).</summary>
    public const int MaxUrlLength = 4096;

    // 00-02 MessageType (ASCII "HEL" "ACK" "ERR" "RHE" "MSG" "OPN" "CLO")
    // 03    ChunkType ('F' final; 'C' intermediate and 'A' abort only for MSG; HEL/ACK/ERR/OPN/CLO are always 'F')
    // 04-07 MessageSize UInt32, the whole chunk including this header
    /// <summary>
    /// Takes one complete chunk from the front of <paramref name="buffer"/>. Returns false and consumes
    /// nothing when the chunk is not complete yet; throws on a malformed header or a chunk larger than
    /// <paramref name="maxChunkSize"/> (checked before any allocation).
    /// </summary>
    public static bool TryReadChunk(ref ReadOnlySequence<byte> buffer, int maxChunkSize, out UaChunk? chunk)
    {
        chunk = null;
        if (buffer.Length < HeaderSize)
            return false;
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var type = (UaMessageType)(header[0] | (header[1] << 8) | (header[2] << 16));
        var chunkType = header[3];
        var size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (!Enum.IsDefined(type))
            throw new UaDecodingException(StatusCodes.BadTcpMessageTypeInvalid, $"Unknown message type 0x{(uint)type:X6} (OPC 10000-6 §7.1.2.2)");
        if (chunkType is not ((byte)'F' or (byte)'C' or (byte)'A'))
            throw new UaDecodingException(StatusCodes.BadTcpMessageTypeInvalid, $"Unknown chunk type 0x{chunkType:X2} (OPC 10000-6 §7.1.2.2)");
        if (chunkType != 'F' && type is not UaMessageType.Message)
            throw new UaDecodingException(StatusCodes.BadTcpMessageTypeInvalid, $"{type} must be a single final chunk (OPC 10000-6 §6.7.2.2)");
        if (size < HeaderSize || size > (uint)maxChunkSize)
            throw new UaDecodingException(StatusCodes.BadTcpMessageTooLarge, $"Chunk size {size} outside {HeaderSize}..{maxChunkSize} (OPC 10000-6 §7.1.2.2)");
        if (buffer.Length < size)
            return false;
        var data = buffer.Slice(0, size).ToArray();
        buffer = buffer.Slice(size);
        chunk = new UaChunk(type, chunkType, data);
        return true;
    }

    /// <summary>Writes the 8-byte header at the start of <paramref name="chunk"/>.</summary>
    public static void WriteHeader(Span<byte> chunk, UaMessageType type, byte chunkType, int size)
    {
        chunk[0] = (byte)((uint)type & 0xFF);
        chunk[1] = (byte)(((uint)type >> 8) & 0xFF);
        chunk[2] = (byte)(((uint)type >> 16) & 0xFF);
        chunk[3] = chunkType;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[4..], (uint)size);
    }

    /// <summary>Encodes a whole single-chunk HEL/ACK/ERR message.</summary>
    public static byte[] EncodeSimple(UaMessageType type, Action<UaBinaryWriter> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var buffer = new ArrayBufferWriter<byte>(64);
        buffer.Advance(HeaderSize);
        body(new UaBinaryWriter(buffer));
        var bytes = buffer.WrittenSpan.ToArray();
        WriteHeader(bytes, type, (byte)'F', bytes.Length);
        return bytes;
    }
}

/// <summary>
/// Hello (OPC 10000-6 §7.1.2.3): the client's protocol version, buffer sizes, limits and endpoint URL.
/// </summary>
public sealed record UaHello
{
    public uint ProtocolVersion { get; init; }

    public uint ReceiveBufferSize { get; init; } = 65535;

    public uint SendBufferSize { get; init; } = 65535;

    /// <summary>Largest response the client accepts; 0 = no limit.</summary>
    public uint MaxMessageSize { get; init; }

    /// <summary>Most chunks per response; 0 = no limit.</summary>
    public uint MaxChunkCount { get; init; }

    public string? EndpointUrl { get; init; }

    /// <summary>The whole HEL message.</summary>
    public byte[] ToBytes() => UaTcpFraming.EncodeSimple(UaMessageType.Hello, w =>
    {
        w.WriteUInt32(ProtocolVersion);
        w.WriteUInt32(ReceiveBufferSize);
        w.WriteUInt32(SendBufferSize);
        w.WriteUInt32(MaxMessageSize);
        w.WriteUInt32(MaxChunkCount);
        w.WriteString(EndpointUrl);
    });

    // 08-0B ProtocolVersion, 0C-0F ReceiveBufferSize, 10-13 SendBufferSize, 14-17 MaxMessageSize,
    // 18-1B MaxChunkCount, 1C.. EndpointUrl String (at most 4096 bytes)
    /// <summary>Decodes a HEL chunk (header included).</summary>
    public static UaHello Decode(ReadOnlySpan<byte> chunk)
    {
        var r = new UaBinaryReader(chunk[UaTcpFraming.HeaderSize..], UaDecodingLimits.Default with { MaxStringLength = UaTcpFraming.MaxUrlLength });
        var hello = new UaHello
        {
            ProtocolVersion = r.ReadUInt32(),
            ReceiveBufferSize = r.ReadUInt32(),
            SendBufferSize = r.ReadUInt32(),
            MaxMessageSize = r.ReadUInt32(),
            MaxChunkCount = r.ReadUInt32(),
            EndpointUrl = r.ReadString(),
        };
        if (hello.ReceiveBufferSize < UaTcpFraming.MinBufferSize || hello.SendBufferSize < UaTcpFraming.MinBufferSize)
            throw new UaDecodingException(StatusCodes.BadTcpNotEnoughResources, "Hello buffer sizes below 8192 (OPC 10000-6 §7.1.2.3)");
        return hello;
    }
}

/// <summary>Acknowledge (OPC 10000-6 §7.1.2.4): the server's revised buffer sizes and limits.</summary>
public sealed record UaAcknowledge
{
    public uint ProtocolVersion { get; init; }

    public uint ReceiveBufferSize { get; init; }

    public uint SendBufferSize { get; init; }

    /// <summary>Largest request the server accepts; 0 = no limit.</summary>
    public uint MaxMessageSize { get; init; }

    /// <summary>Most chunks per request; 0 = no limit.</summary>
    public uint MaxChunkCount { get; init; }

    /// <summary>The whole ACK message.</summary>
    public byte[] ToBytes() => UaTcpFraming.EncodeSimple(UaMessageType.Acknowledge, w =>
    {
        w.WriteUInt32(ProtocolVersion);
        w.WriteUInt32(ReceiveBufferSize);
        w.WriteUInt32(SendBufferSize);
        w.WriteUInt32(MaxMessageSize);
        w.WriteUInt32(MaxChunkCount);
    });

    // 08-0B ProtocolVersion, 0C-0F ReceiveBufferSize, 10-13 SendBufferSize, 14-17 MaxMessageSize, 18-1B MaxChunkCount
    /// <summary>Decodes an ACK chunk (header included).</summary>
    public static UaAcknowledge Decode(ReadOnlySpan<byte> chunk)
    {
        var r = new UaBinaryReader(chunk[UaTcpFraming.HeaderSize..]);
        var ack = new UaAcknowledge
        {
            ProtocolVersion = r.ReadUInt32(),
            ReceiveBufferSize = r.ReadUInt32(),
            SendBufferSize = r.ReadUInt32(),
            MaxMessageSize = r.ReadUInt32(),
            MaxChunkCount = r.ReadUInt32(),
        };
        if (ack.ReceiveBufferSize < UaTcpFraming.MinBufferSize || ack.SendBufferSize < UaTcpFraming.MinBufferSize)
            throw new UaDecodingException(StatusCodes.BadTcpNotEnoughResources, "Acknowledge buffer sizes below 8192 (OPC 10000-6 §7.1.2.4)");
        return ack;
    }
}

/// <summary>Error (OPC 10000-6 §7.1.2.5): a status code and a reason, sent before the socket is closed.</summary>
/// <param name="Error">The status code.</param>
/// <param name="Reason">Why, at most 4096 bytes.</param>
public sealed record UaError(StatusCode Error, string? Reason)
{
    /// <summary>The whole ERR message.</summary>
    public byte[] ToBytes() => UaTcpFraming.EncodeSimple(UaMessageType.Error, w =>
    {
        w.WriteStatusCode(Error);
        var reason = Reason is { Length: > 1000 } ? Reason[..1000] : Reason;
        w.WriteString(reason);
    });

    // 08-0B Error UInt32 status code, 0C.. Reason String
    /// <summary>Decodes an ERR chunk (header included), or the body of an abort chunk.</summary>
    public static UaError DecodeBody(ReadOnlySpan<byte> body)
    {
        var r = new UaBinaryReader(body, UaDecodingLimits.Default with { MaxStringLength = UaTcpFraming.MaxUrlLength });
        var code = r.ReadStatusCode();
        return new UaError(code, r.ReadString());
    }
}
