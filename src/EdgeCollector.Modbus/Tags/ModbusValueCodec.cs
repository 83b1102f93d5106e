using System.Buffers.Binary;

namespace EdgeCollector.Modbus;

/// <summary>
/// Converts between registers and values (pure). Registers are big-endian on the wire (§4.2);
/// the word order decides how several registers form one value.
/// </summary>
public static class ModbusValueCodec
{
    /// <summary>Registers one value of <paramref name="type"/> occupies.</summary>
    public static int RegisterCount(ModbusDataType type) => type switch
    {
        ModbusDataType.Bool or ModbusDataType.Int16 or ModbusDataType.UInt16 or ModbusDataType.Bcd16 => 1,
        ModbusDataType.Int32 or ModbusDataType.UInt32 or ModbusDataType.Float32 or ModbusDataType.Bcd32 => 2,
        ModbusDataType.Bcd48 => 3,
        ModbusDataType.Int64 or ModbusDataType.UInt64 or ModbusDataType.Float64 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Decodes the raw value (before scale and offset).</summary>
    /// <exception cref="FormatException">A BCD nibble above 9.</exception>
    public static double DecodeRaw(ModbusDataType type, ModbusWordOrder order, ReadOnlySpan<ushort> registers, int? bitIndex = null)
    {
        int count = RegisterCount(type);
        if (registers.Length < count)
        {
            throw new ArgumentException($"{type} needs {count} registers, got {registers.Length}.", nameof(registers));
        }

        Span<byte> bytes = stackalloc byte[count * 2];
        ToBigEndian(registers[..count], order, bytes);
        return type switch
        {
            ModbusDataType.Bool => (BinaryPrimitives.ReadUInt16BigEndian(bytes) >> (bitIndex ?? 0)) & 1,
            ModbusDataType.Int16 => BinaryPrimitives.ReadInt16BigEndian(bytes),
            ModbusDataType.UInt16 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            ModbusDataType.Int32 => BinaryPrimitives.ReadInt32BigEndian(bytes),
            ModbusDataType.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            ModbusDataType.Int64 => BinaryPrimitives.ReadInt64BigEndian(bytes),
            ModbusDataType.UInt64 => BinaryPrimitives.ReadUInt64BigEndian(bytes),
            ModbusDataType.Float32 => BinaryPrimitives.ReadSingleBigEndian(bytes),
            ModbusDataType.Float64 => BinaryPrimitives.ReadDoubleBigEndian(bytes),
            _ => DecodeBcd(bytes),
        };
    }

    /// <summary>Decodes and applies the tag's scale and offset.</summary>
    public static double Decode(ModbusTag tag, ReadOnlySpan<ushort> registers)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return (DecodeRaw(tag.DataType, tag.WordOrder, registers, tag.BitIndex) * tag.Scale) + tag.Offset;
    }

    /// <summary>Encodes a raw value (the inverse of <see cref="DecodeRaw"/>), e.g. for simulators.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the type.</exception>
    public static ushort[] Encode(ModbusDataType type, ModbusWordOrder order, double value)
    {
        int count = RegisterCount(type);
        Span<byte> bytes = stackalloc byte[count * 2];
        switch (type)
        {
            case ModbusDataType.Bool: BinaryPrimitives.WriteUInt16BigEndian(bytes, value != 0 ? (ushort)1 : (ushort)0); break;
            case ModbusDataType.Int16: BinaryPrimitives.WriteInt16BigEndian(bytes, checked((short)Integer(value))); break;
            case ModbusDataType.UInt16: BinaryPrimitives.WriteUInt16BigEndian(bytes, checked((ushort)Integer(value))); break;
            case ModbusDataType.Int32: BinaryPrimitives.WriteInt32BigEndian(bytes, checked((int)Integer(value))); break;
            case ModbusDataType.UInt32: BinaryPrimitives.WriteUInt32BigEndian(bytes, checked((uint)Integer(value))); break;
            case ModbusDataType.Int64: BinaryPrimitives.WriteInt64BigEndian(bytes, checked((long)Integer(value))); break;
            case ModbusDataType.UInt64: BinaryPrimitives.WriteUInt64BigEndian(bytes, checked((ulong)Integer(value))); break;
            case ModbusDataType.Float32: BinaryPrimitives.WriteSingleBigEndian(bytes, (float)value); break;
            case ModbusDataType.Float64: BinaryPrimitives.WriteDoubleBigEndian(bytes, value); break;
            default: EncodeBcd(Integer(value), bytes); break;
        }

        var registers = new ushort[count];
        FromBigEndian(bytes, order, registers);
        return registers;
    }

    /// <summary>Integer encode for 64-bit values beyond 2^53, where a double cannot carry every unit.</summary>
    public static ushort[] EncodeInt64(long value, ModbusWordOrder order = ModbusWordOrder.ABCD)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        var registers = new ushort[4];
        FromBigEndian(bytes, order, registers);
        return registers;
    }

    /// <summary>Puts registers into big-endian byte order A B C D … according to <paramref name="order"/>.</summary>
    public static void ToBigEndian(ReadOnlySpan<ushort> registers, ModbusWordOrder order, Span<byte> destination)
    {
        bool wordSwap = order is ModbusWordOrder.CDAB or ModbusWordOrder.DCBA;
        bool byteSwap = order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA;
        int n = registers.Length;
        for (int i = 0; i < n; i++)
        {
            ushort register = registers[wordSwap ? n - 1 - i : i];
            if (byteSwap)
            {
                register = BinaryPrimitives.ReverseEndianness(register);
            }

            BinaryPrimitives.WriteUInt16BigEndian(destination[(2 * i)..], register);
        }
    }

    /// <summary>The inverse of <see cref="ToBigEndian"/>.</summary>
    public static void FromBigEndian(ReadOnlySpan<byte> bytes, ModbusWordOrder order, Span<ushort> registers)
    {
        bool wordSwap = order is ModbusWordOrder.CDAB or ModbusWordOrder.DCBA;
        bool byteSwap = order is ModbusWordOrder.BADC or ModbusWordOrder.DCBA;
        int n = registers.Length;
        for (int i = 0; i < n; i++)
        {
            ushort register = BinaryPrimitives.ReadUInt16BigEndian(bytes[(2 * i)..]);
            if (byteSwap)
            {
                register = BinaryPrimitives.ReverseEndianness(register);
            }

            registers[wordSwap ? n - 1 - i : i] = register;
        }
    }

    private static double DecodeBcd(ReadOnlySpan<byte> bytes)
    {
        long value = 0;
        foreach (byte b in bytes)
        {
            int high = b >> 4, low = b & 0xF;
            if (high > 9 || low > 9)
            {
                throw new FormatException($"Invalid BCD byte 0x{b:X2}.");
            }

            value = (value * 100) + (high * 10) + low;
        }

        return value;
    }

    private static void EncodeBcd(long value, Span<byte> bytes)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "BCD cannot hold negative values.");
        }

        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            int pair = (int)(value % 100);
            value /= 100;
            bytes[i] = (byte)(((pair / 10) << 4) | (pair % 10));
        }

        if (value != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Value has more digits than the BCD field.");
        }
    }

    private static long Integer(double value)
    {
        double rounded = Math.Round(value, MidpointRounding.AwayFromZero);
        if (double.IsNaN(rounded) || rounded < long.MinValue || rounded >= 9.2233720368547758E18)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Value does not fit a 64-bit integer.");
        }

        return (long)rounded;
    }
}
