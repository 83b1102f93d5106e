using System.Buffers;
using System.Buffers.Binary;

namespace EdgeCollector.Modbus;

/// <summary>
/// RTU framing (Modbus over Serial Line v1.02 §2.5.1). No I/O.
/// </summary>
/// <remarks>
/// ADU layout:
/// <code>
/// 00    slave address (0 broadcast, 1..247; 248..255 reserved, §2.2)
/// 01-   PDU (function code + data)
/// n-2   CRC low byte
/// n-1   CRC high byte
/// </code>
/// RTU carries no length field: frames are separated by 3.5 character times of silence (§2.5.1.1).
/// Because OS drivers, USB adapters and TCP gateways blur that timing, the frame length is predicted
/// from the function code and byte count instead, and the CRC confirms the boundary.
/// </remarks>
public static class ModbusRtuCodec
{
    /// <summary>Largest RTU ADU (§2.5.1.1: 256 bytes).</summary>
    public const int MaxAduLength = 256;

    private const string FrameClause = "Modbus over Serial Line v1.02 §2.5.1.1";
    private const string CrcClause = "Modbus over Serial Line v1.02 §2.5.1.2";

    /// <summary>Writes a request ADU and returns its length.</summary>
    public static int WriteRequest(byte unitId, ModbusRequest request, Span<byte> destination)
    {
        destination[0] = unitId;
        int pdu = ModbusPduCodec.WriteRequest(request, destination[1..]);
        return AppendCrc(destination, 1 + pdu);
    }

    /// <summary>Writes a response ADU and returns its length.</summary>
    public static int WriteResponse(byte unitId, ModbusResponse response, Span<byte> destination)
    {
        destination[0] = unitId;
        int pdu = ModbusPduCodec.WriteResponse(response, destination[1..]);
        return AppendCrc(destination, 1 + pdu);
    }

    /// <summary>
    /// Reads one request ADU (slave side). Returns false and consumes nothing when more bytes are needed.
    /// Throws <see cref="ModbusProtocolException"/>, consuming nothing, on a bad address, unknown function
    /// (the length cannot be predicted) or CRC mismatch; <see cref="ModbusProtocolException.FrameLength"/>
    /// is set when the CRC was good but the PDU content was invalid, so a slave can answer it.
    /// </summary>
    public static bool TryReadRequest(ref SequenceReader<byte> reader, out ModbusFrame<ModbusRequest> frame)
    {
        frame = default;
        Span<byte> adu = stackalloc byte[MaxAduLength];
        int length = PeekFrame(ref reader, adu, request: true);
        if (length < 0)
        {
            return false;
        }

        frame = new ModbusFrame<ModbusRequest>(0, adu[0], ModbusPduCodec.ParseRequest(adu[1..(length - 2)], new FrameContext(length, 0, adu[0])));

        reader.Advance(length);
        return true;
    }

    /// <summary>Reads one response ADU (master side); same contract as <see cref="TryReadRequest"/>.</summary>
    public static bool TryReadResponse(ref SequenceReader<byte> reader, out ModbusFrame<ModbusResponse> frame)
    {
        frame = default;
        Span<byte> adu = stackalloc byte[MaxAduLength];
        int length = PeekFrame(ref reader, adu, request: false);
        if (length < 0)
        {
            return false;
        }

        frame = new ModbusFrame<ModbusResponse>(0, adu[0], ModbusPduCodec.ParseResponse(adu[1..(length - 2)], new FrameContext(length, 0, adu[0])));

        reader.Advance(length);
        return true;
    }

    /// <summary>Copies the next complete, CRC-checked frame into <paramref name="adu"/>; -1 when incomplete.</summary>
    private static int PeekFrame(ref SequenceReader<byte> reader, scoped Span<byte> adu, bool request)
    {
        // Address + function code + up to 5 bytes are enough to predict any supported frame's length.
        int head = (int)Math.Min(reader.Remaining, 7);
        if (head < 2)
        {
            return -1;
        }

        reader.UnreadSequence.Slice(0, head).CopyTo(adu);
        if (adu[0] > 247)
        {
            throw new ModbusProtocolException($"Slave address {adu[0]} is reserved (Modbus over Serial Line v1.02 §2.2).");
        }

        int pdu = request ? ModbusPduCodec.PredictRequestLengthCore(adu[1..head]) : ModbusPduCodec.PredictResponseLengthCore(adu[1..head]);
        if (pdu == ModbusPduCodec.Unsupported)
        {
            throw new ModbusProtocolException($"Function code 0x{adu[1]:X2} is not supported, so the frame length is unknown ({FrameClause}).");
        }

        if (pdu < 0)
        {
            return -1;
        }

        int length = 1 + pdu + 2;
        if (length > MaxAduLength)
        {
            throw new ModbusProtocolException($"Frame of {length} bytes exceeds {MaxAduLength} ({FrameClause}).");
        }

        if (reader.Remaining < length)
        {
            return -1;
        }

        reader.UnreadSequence.Slice(0, length).CopyTo(adu);
        ushort expected = ModbusCrc.Compute(adu[..(length - 2)]);
        ushort actual = BinaryPrimitives.ReadUInt16LittleEndian(adu[(length - 2)..]);
        if (expected != actual)
        {
            throw new ModbusProtocolException($"CRC mismatch: frame has {actual:X4}, computed {expected:X4} ({CrcClause}).");
        }

        return length;
    }

    private static int AppendCrc(Span<byte> destination, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination[length..], ModbusCrc.Compute(destination[..length]));
        return length + 2;
    }
}
