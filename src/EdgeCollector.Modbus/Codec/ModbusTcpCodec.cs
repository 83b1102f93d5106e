using System.Buffers;
using System.Buffers.Binary;

namespace EdgeCollector.Modbus;

/// <summary>
/// MBAP framing (Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3). No I/O.
/// </summary>
/// <remarks>
/// ADU layout:
/// <code>
/// 00-01 transaction id   (echoed by the server)
/// 02-03 protocol id      (0 = Modbus)
/// 04-05 length           (bytes that follow: unit id + PDU, 2..254)
/// 06    unit id
/// 07-   PDU
/// </code>
/// </remarks>
public static class ModbusTcpCodec
{
    /// <summary>MBAP header size including the unit id.</summary>
    public const int HeaderLength = 7;

    /// <summary>Largest ADU: 7-byte MBAP + 253-byte PDU.</summary>
    public const int MaxAduLength = HeaderLength + ModbusPduCodec.MaxPduLength;

    private const string Clause = "Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3";

    /// <summary>Writes a request ADU and returns its length.</summary>
    public static int WriteRequest(ushort transactionId, byte unitId, ModbusRequest request, Span<byte> destination)
    {
        int pdu = ModbusPduCodec.WriteRequest(request, destination[HeaderLength..]);
        WriteHeader(transactionId, unitId, pdu, destination);
        return HeaderLength + pdu;
    }

    /// <summary>Writes a response ADU and returns its length.</summary>
    public static int WriteResponse(ushort transactionId, byte unitId, ModbusResponse response, Span<byte> destination)
    {
        int pdu = ModbusPduCodec.WriteResponse(response, destination[HeaderLength..]);
        WriteHeader(transactionId, unitId, pdu, destination);
        return HeaderLength + pdu;
    }

    /// <summary>
    /// Reads one request ADU. Returns false and consumes nothing when the frame is incomplete.
    /// Throws <see cref="ModbusProtocolException"/> on a malformed frame, consuming nothing; when the
    /// MBAP header was valid, the exception carries <see cref="ModbusProtocolException.FrameLength"/>
    /// so a server can skip the frame and answer with the exception code.
    /// </summary>
    public static bool TryReadRequest(ref SequenceReader<byte> reader, out ModbusFrame<ModbusRequest> frame)
    {
        frame = default;
        if (!TryReadAdu(ref reader, out ushort tid, out byte unit, out int pduLength, peekOnly: true))
        {
            return false;
        }

        Span<byte> pdu = stackalloc byte[pduLength];
        reader.UnreadSequence.Slice(HeaderLength, pduLength).CopyTo(pdu);
        frame = new ModbusFrame<ModbusRequest>(tid, unit, ModbusPduCodec.ParseRequest(pdu, new FrameContext(HeaderLength + pduLength, tid, unit)));

        reader.Advance(HeaderLength + pduLength);
        return true;
    }

    /// <summary>Reads one response ADU; same contract as <see cref="TryReadRequest"/>.</summary>
    public static bool TryReadResponse(ref SequenceReader<byte> reader, out ModbusFrame<ModbusResponse> frame)
    {
        frame = default;
        if (!TryReadAdu(ref reader, out ushort tid, out byte unit, out int pduLength, peekOnly: true))
        {
            return false;
        }

        Span<byte> pdu = stackalloc byte[pduLength];
        reader.UnreadSequence.Slice(HeaderLength, pduLength).CopyTo(pdu);
        frame = new ModbusFrame<ModbusResponse>(tid, unit, ModbusPduCodec.ParseResponse(pdu, new FrameContext(HeaderLength + pduLength, tid, unit)));

        reader.Advance(HeaderLength + pduLength);
        return true;
    }

    private static bool TryReadAdu(ref SequenceReader<byte> reader, out ushort transactionId, out byte unitId, out int pduLength, bool peekOnly)
    {
        transactionId = 0;
        unitId = 0;
        pduLength = 0;
        Span<byte> header = stackalloc byte[HeaderLength];
        if (!reader.TryCopyTo(header))
        {
            return false;
        }

        transactionId = BinaryPrimitives.ReadUInt16BigEndian(header);
        ushort protocol = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
        ushort length = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        unitId = header[6];
        if (protocol != 0)
        {
            throw new ModbusProtocolException($"Protocol id {protocol} is not 0 ({Clause}).", null, null, 0, transactionId, unitId);
        }

        // The length counts the unit id plus a PDU of 1..253 bytes.
        if (length < 2 || length > ModbusPduCodec.MaxPduLength + 1)
        {
            throw new ModbusProtocolException($"MBAP length {length} outside 2..254 ({Clause}).", null, null, 0, transactionId, unitId);
        }

        pduLength = length - 1;
        if (reader.Remaining < HeaderLength + pduLength)
        {
            return false;
        }

        if (!peekOnly)
        {
            reader.Advance(HeaderLength + pduLength);
        }

        return true;
    }

    private static void WriteHeader(ushort transactionId, byte unitId, int pduLength, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, transactionId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], checked((ushort)(pduLength + 1)));
        destination[6] = unitId;
    }
}
