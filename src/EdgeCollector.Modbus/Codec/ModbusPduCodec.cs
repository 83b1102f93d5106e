using System.Buffers.Binary;

namespace EdgeCollector.Modbus;

/// <summary>
/// Encodes and decodes PDUs (function code + data, Modbus Application Protocol v1.1b3 §4.1),
/// independent of the TCP or RTU framing around them. No I/O. All fields big-endian (§4.2).
/// </summary>
public static class ModbusPduCodec
{
    /// <summary>Largest PDU (§4.1: 253 bytes, limited by the RS-485 ADU of 256).</summary>
    public const int MaxPduLength = 253;

    private const string Spec = "Modbus Application Protocol v1.1b3";

    /// <summary>True for the function codes of <see cref="ModbusFunctionCode"/>.</summary>
    public static bool IsSupported(byte functionCode) => functionCode is 1 or 2 or 3 or 4 or 5 or 6 or 15 or 16;

    /// <summary>Number of bytes <paramref name="request"/> occupies as a PDU.</summary>
    public static int GetRequestLength(ModbusRequest request) => request.Function switch
    {
        ModbusFunctionCode.WriteMultipleCoils => 6 + ((request.Quantity + 7) / 8),
        ModbusFunctionCode.WriteMultipleRegisters => 6 + (2 * request.Quantity),
        _ => 5,
    };

    /// <summary>Writes <paramref name="request"/> and returns the number of bytes written; rejects requests the spec forbids.</summary>
    public static int WriteRequest(ModbusRequest request, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(request);
        int length = GetRequestLength(request);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small.", nameof(destination));
        }

        destination[0] = (byte)request.Function;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], request.Address);
        switch (request.Function)
        {
            // 00 function code | 01-02 starting address | 03-04 quantity
            case ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs:
                RequireRange(request.Quantity, 1, ModbusRequest.MaxReadBits, "§6.1/§6.2 quantity of bits");
                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], request.Quantity);
                break;
            case ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters:
                RequireRange(request.Quantity, 1, ModbusRequest.MaxReadRegisters, "§6.3/§6.4 quantity of registers");
                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], request.Quantity);
                break;

            // 00 function code | 01-02 output address | 03-04 0xFF00 on / 0x0000 off
            case ModbusFunctionCode.WriteSingleCoil:
                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], Single(request.Coils) ? (ushort)0xFF00 : (ushort)0x0000);
                break;

            // 00 function code | 01-02 register address | 03-04 value
            case ModbusFunctionCode.WriteSingleRegister:
                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], Single(request.Registers));
                break;

            // 00 function code | 01-02 starting address | 03-04 quantity | 05 byte count | 06- packed bits
            case ModbusFunctionCode.WriteMultipleCoils:
            {
                RequireRange(request.Quantity, 1, ModbusRequest.MaxWriteCoils, "§6.11 quantity of outputs");
                var coils = request.Coils ?? throw new ArgumentException("FC15 needs coil values.", nameof(request));
                if (coils.Length != request.Quantity)
                {
                    throw new ArgumentException("FC15 quantity differs from the number of values.", nameof(request));
                }

                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], request.Quantity);
                destination[5] = (byte)(length - 6);
                PackBits(coils, destination.Slice(6, length - 6));
                break;
            }

            // 00 function code | 01-02 starting address | 03-04 quantity | 05 byte count (2 × N) | 06- values
            case ModbusFunctionCode.WriteMultipleRegisters:
            {
                RequireRange(request.Quantity, 1, ModbusRequest.MaxWriteRegisters, "§6.12 quantity of registers");
                var registers = request.Registers ?? throw new ArgumentException("FC16 needs register values.", nameof(request));
                if (registers.Length != request.Quantity)
                {
                    throw new ArgumentException("FC16 quantity differs from the number of values.", nameof(request));
                }

                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], request.Quantity);
                destination[5] = (byte)(2 * registers.Length);
                for (int i = 0; i < registers.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(destination[(6 + (2 * i))..], registers[i]);
                }

                break;
            }

            default:
                throw new ArgumentException($"Function {request.Function} is not supported.", nameof(request));
        }

        return length;
    }

    // Request PDU layouts (§6):
    // FC01-06      00 function | 01-02 address | 03-04 quantity (FC01-04) or value (FC05: FF00/0000, FC06)
    // FC15 / FC16  00 function | 01-02 address | 03-04 quantity | 05 byte count | 06- packed bits / registers

    /// <summary>
    /// Parses a complete request PDU (its length known from the framing).
    /// Throws <see cref="ModbusProtocolException"/> carrying the exception code a server should answer (§7 and the §6 state diagrams).
    /// </summary>
    public static ModbusRequest ParseRequest(ReadOnlySpan<byte> pdu) => ParseRequest(pdu, default);

    /// <summary>Same, with the enclosing frame's details put straight into any exception (one throw per bad frame).</summary>
    internal static ModbusRequest ParseRequest(ReadOnlySpan<byte> pdu, FrameContext frame)
    {
        if (pdu.IsEmpty)
        {
            throw Malformed("Empty PDU", 0, ModbusExceptionCode.IllegalFunction, "§4.1", frame);
        }

        byte fc = pdu[0];
        if (!IsSupported(fc))
        {
            throw Malformed($"Function code 0x{fc:X2} is not supported", fc, ModbusExceptionCode.IllegalFunction, "§6", frame);
        }

        var function = (ModbusFunctionCode)fc;
        int expected = PredictRequestLengthCore(pdu);
        if (expected < 0 || pdu.Length != expected)
        {
            throw Malformed($"{function} request is {pdu.Length} bytes, expected {(expected < 0 ? "more" : expected)}", fc, ModbusExceptionCode.IllegalDataValue, Clause(function), frame);
        }

        ushort address = BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]);
        ushort q = BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]);
        switch (function)
        {
            case ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs:
                CheckQuantity(q, ModbusRequest.MaxReadBits, function, frame);
                return new ModbusRequest(function, address, q);
            case ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters:
                CheckQuantity(q, ModbusRequest.MaxReadRegisters, function, frame);
                return new ModbusRequest(function, address, q);
            case ModbusFunctionCode.WriteSingleCoil:
                if (q is not (0xFF00 or 0x0000))
                {
                    throw Malformed($"Coil value 0x{q:X4} is neither 0xFF00 nor 0x0000", fc, ModbusExceptionCode.IllegalDataValue, "§6.5", frame);
                }

                return ModbusRequest.WriteSingleCoil(address, q == 0xFF00);
            case ModbusFunctionCode.WriteSingleRegister:
                return ModbusRequest.WriteSingleRegister(address, q);
            case ModbusFunctionCode.WriteMultipleCoils:
            {
                CheckQuantity(q, ModbusRequest.MaxWriteCoils, function, frame);
                if (pdu[5] != (q + 7) / 8)
                {
                    throw Malformed($"Byte count {pdu[5]} does not match {q} coils", fc, ModbusExceptionCode.IllegalDataValue, "§6.11", frame);
                }

                return ModbusRequest.WriteMultipleCoils(address, UnpackBits(pdu[6..], q));
            }

            default: // WriteMultipleRegisters
            {
                CheckQuantity(q, ModbusRequest.MaxWriteRegisters, function, frame);
                if (pdu[5] != 2 * q)
                {
                    throw Malformed($"Byte count {pdu[5]} does not match {q} registers", fc, ModbusExceptionCode.IllegalDataValue, "§6.12", frame);
                }

                var values = new ushort[q];
                for (int i = 0; i < q; i++)
                {
                    values[i] = BinaryPrimitives.ReadUInt16BigEndian(pdu[(6 + (2 * i))..]);
                }

                return ModbusRequest.WriteMultipleRegisters(address, values);
            }
        }
    }

    /// <summary>
    /// Length of the request PDU that starts with <paramref name="prefix"/>, or -1 when more bytes are needed to tell.
    /// RTU has no length field, so the serial framer relies on this (Modbus over Serial Line v1.02 §2.5.1.1).
    /// </summary>
    public static int PredictRequestLength(ReadOnlySpan<byte> prefix)
    {
        int length = PredictRequestLengthCore(prefix);
        return length != Unsupported ? length
            : throw Malformed($"Function code 0x{prefix[0]:X2} is not supported", prefix[0], ModbusExceptionCode.IllegalFunction, "§6");
    }

    /// <summary>Returned by the predictors for a function code whose length is unknown.</summary>
    internal const int Unsupported = -2;

    /// <summary>Like <see cref="PredictRequestLength"/> but returns <see cref="Unsupported"/> instead of throwing.</summary>
    internal static int PredictRequestLengthCore(ReadOnlySpan<byte> prefix)
    {
        if (prefix.IsEmpty)
        {
            return -1;
        }

        switch (prefix[0])
        {
            case 1 or 2 or 3 or 4 or 5 or 6:
                return 5;
            case 15 or 16:
                return prefix.Length < 6 ? -1 : 6 + prefix[5];
            default:
                return Unsupported;
        }
    }

    /// <summary>Length of the response PDU that starts with <paramref name="prefix"/>, or -1 when more bytes are needed to tell.</summary>
    public static int PredictResponseLength(ReadOnlySpan<byte> prefix)
    {
        int length = PredictResponseLengthCore(prefix);
        return length != Unsupported ? length
            : throw Malformed($"Function code 0x{prefix[0]:X2} in a response is not supported", prefix[0], null, "§6");
    }

    /// <summary>Like <see cref="PredictResponseLength"/> but returns <see cref="Unsupported"/> instead of throwing.</summary>
    internal static int PredictResponseLengthCore(ReadOnlySpan<byte> prefix)
    {
        if (prefix.IsEmpty)
        {
            return -1;
        }

        byte fc = prefix[0];
        if ((fc & 0x80) != 0 && IsSupported((byte)(fc & 0x7F)))
        {
            return 2; // §7: function code | 0x80, exception code
        }

        switch (fc)
        {
            case 1 or 2 or 3 or 4:
                return prefix.Length < 2 ? -1 : 2 + prefix[1];
            case 5 or 6 or 15 or 16:
                return 5;
            default:
                return Unsupported;
        }
    }

    /// <summary>Number of bytes <paramref name="response"/> occupies as a PDU.</summary>
    public static int GetResponseLength(ModbusResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsException)
        {
            return 2;
        }

        return response.Function switch
        {
            ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs => 2 + (((response.Bits?.Length ?? 0) + 7) / 8),
            ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters => 2 + (2 * (response.Registers?.Length ?? 0)),
            _ => 5,
        };
    }

    /// <summary>Writes <paramref name="response"/> and returns the number of bytes written.</summary>
    public static int WriteResponse(ModbusResponse response, Span<byte> destination)
    {
        int length = GetResponseLength(response);
        if (length > MaxPduLength)
        {
            throw new ArgumentException($"Response PDU of {length} bytes exceeds {MaxPduLength} (§4.1).", nameof(response));
        }

        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small.", nameof(destination));
        }

        // 00 function code | 0x80 | 01 exception code (§7)
        if (response.ExceptionCode is { } code)
        {
            destination[0] = (byte)((byte)response.Function | 0x80);
            destination[1] = (byte)code;
            return 2;
        }

        destination[0] = (byte)response.Function;
        switch (response.Function)
        {
            // 00 function code | 01 byte count | 02- packed bits, LSB first (§6.1)
            case ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs:
                destination[1] = (byte)(length - 2);
                PackBits(response.Bits ?? [], destination.Slice(2, length - 2));
                break;

            // 00 function code | 01 byte count (2 × N) | 02- register values (§6.3)
            case ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters:
            {
                var registers = response.Registers ?? [];
                destination[1] = (byte)(2 * registers.Length);
                for (int i = 0; i < registers.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(destination[(2 + (2 * i))..], registers[i]);
                }

                break;
            }

            // 00 function code | 01-02 address | 03-04 value or quantity (§6.5, §6.6, §6.11, §6.12)
            default:
                BinaryPrimitives.WriteUInt16BigEndian(destination[1..], response.Address);
                BinaryPrimitives.WriteUInt16BigEndian(destination[3..], response.Quantity);
                break;
        }

        return length;
    }

    // Response PDU layouts (§6, §7):
    // FC01-04            00 function | 01 byte count N | 02- N data bytes (bits LSB first, or registers)
    // FC05/06/15/16      00 function | 01-02 address | 03-04 value or quantity (echo)
    // exception          00 function | 0x80 | 01 exception code

    /// <summary>Parses a complete response PDU (its length known from the framing).</summary>
    public static ModbusResponse ParseResponse(ReadOnlySpan<byte> pdu) => ParseResponse(pdu, default);

    /// <summary>Same, with the enclosing frame's details put straight into any exception.</summary>
    internal static ModbusResponse ParseResponse(ReadOnlySpan<byte> pdu, FrameContext frame)
    {
        if (pdu.IsEmpty)
        {
            throw Malformed("Empty PDU", 0, null, "§4.1", frame);
        }

        int expected = PredictResponseLengthCore(pdu);
        byte fc = pdu[0];
        if (expected == Unsupported)
        {
            throw Malformed($"Function code 0x{fc:X2} in a response is not supported", fc, null, "§6", frame);
        }

        if (expected < 0 || pdu.Length != expected)
        {
            throw Malformed($"Response with function 0x{fc:X2} is {pdu.Length} bytes, expected {(expected < 0 ? "more" : expected)}", fc, null, "§4.1", frame);
        }

        if ((fc & 0x80) != 0)
        {
            return ModbusResponse.Exception((ModbusFunctionCode)(fc & 0x7F), (ModbusExceptionCode)pdu[1]);
        }

        var function = (ModbusFunctionCode)fc;
        switch (function)
        {
            case ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs:
                if (pdu[1] == 0 || pdu[1] > (ModbusRequest.MaxReadBits + 7) / 8)
                {
                    throw Malformed($"Byte count {pdu[1]} out of range", fc, null, Clause(function), frame);
                }

                return ModbusResponse.ReadBits(function, UnpackBits(pdu[2..], pdu[1] * 8));
            case ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters:
            {
                if (pdu[1] == 0 || pdu[1] % 2 != 0 || pdu[1] > 2 * ModbusRequest.MaxReadRegisters)
                {
                    throw Malformed($"Byte count {pdu[1]} is not 2 × N with N in 1..125", fc, null, Clause(function), frame);
                }

                var values = new ushort[pdu[1] / 2];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadUInt16BigEndian(pdu[(2 + (2 * i))..]);
                }

                return ModbusResponse.ReadRegisters(function, values);
            }

            default:
                return ModbusResponse.WriteEcho(function, BinaryPrimitives.ReadUInt16BigEndian(pdu[1..]), BinaryPrimitives.ReadUInt16BigEndian(pdu[3..]));
        }
    }

    /// <summary>Packs bits LSB-first into bytes, padding the last byte with zeros (§6.1).</summary>
    public static void PackBits(ReadOnlySpan<bool> bits, Span<byte> destination)
    {
        destination.Clear();
        for (int i = 0; i < bits.Length; i++)
        {
            if (bits[i])
            {
                destination[i >> 3] |= (byte)(1 << (i & 7));
            }
        }
    }

    /// <summary>Unpacks <paramref name="count"/> bits LSB-first.</summary>
    public static bool[] UnpackBits(ReadOnlySpan<byte> source, int count)
    {
        var bits = new bool[count];
        for (int i = 0; i < count; i++)
        {
            bits[i] = (source[i >> 3] & (1 << (i & 7))) != 0;
        }

        return bits;
    }

    /// <summary>The clause of the Application Protocol spec that defines <paramref name="function"/>.</summary>
    public static string Clause(ModbusFunctionCode function) => function switch
    {
        ModbusFunctionCode.ReadCoils => "§6.1",
        ModbusFunctionCode.ReadDiscreteInputs => "§6.2",
        ModbusFunctionCode.ReadHoldingRegisters => "§6.3",
        ModbusFunctionCode.ReadInputRegisters => "§6.4",
        ModbusFunctionCode.WriteSingleCoil => "§6.5",
        ModbusFunctionCode.WriteSingleRegister => "§6.6",
        ModbusFunctionCode.WriteMultipleCoils => "§6.11",
        ModbusFunctionCode.WriteMultipleRegisters => "§6.12",
        _ => "§6",
    };

    private static void CheckQuantity(ushort quantity, int max, ModbusFunctionCode function, FrameContext frame)
    {
        if (quantity < 1 || quantity > max)
        {
            throw Malformed($"Quantity {quantity} outside 1..{max}", (byte)function, ModbusExceptionCode.IllegalDataValue, Clause(function), frame);
        }
    }

    private static void RequireRange(int value, int min, int max, string what)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"{Spec} {what} must be {min}..{max}.");
        }
    }

    private static T Single<T>(T[]? values) => values is { Length: 1 } ? values[0] : throw new ArgumentException("Single write needs exactly one value.", nameof(values));

    private static ModbusProtocolException Malformed(string what, byte fc, ModbusExceptionCode? code, string clause, FrameContext frame = default) =>
        new($"{what} ({Spec} {clause}).", code, frame.Length == 0 ? null : frame.Length, fc, frame.TransactionId, frame.UnitId);
}

/// <summary>Where a PDU sits: the enclosing ADU's length and addressing (Length 0 = unknown).</summary>
internal readonly record struct FrameContext(int Length, ushort TransactionId, byte UnitId);
