namespace EdgeCollector.Modbus;

/// <summary>How a tag's registers are interpreted.</summary>
public enum ModbusDataType
{
    /// <summary>A coil or discrete input, or one bit of a register (<see cref="ModbusTag.BitIndex"/>).</summary>
    Bool,
    /// <summary>Signed 16-bit, one register.</summary>
    Int16,
    /// <summary>Unsigned 16-bit, one register.</summary>
    UInt16,
    /// <summary>Signed 32-bit, two registers.</summary>
    Int32,
    /// <summary>Unsigned 32-bit, two registers.</summary>
    UInt32,
    /// <summary>Signed 64-bit, four registers (e.g. Schneider PM5xxx energy in Wh).</summary>
    Int64,
    /// <summary>Unsigned 64-bit, four registers.</summary>
    UInt64,
    /// <summary>IEEE 754 single, two registers. About 7 significant digits: lossy for totals above 2^24.</summary>
    Float32,
    /// <summary>IEEE 754 double, four registers.</summary>
    Float64,
    /// <summary>Packed BCD, 4 digits in one register.</summary>
    Bcd16,
    /// <summary>Packed BCD, 8 digits in two registers.</summary>
    Bcd32,
    /// <summary>Packed BCD, 12 digits in three registers (6 bytes): gas volume corrector totals, usually with 4 decimals (Scale 0.0001).</summary>
    Bcd48,
}

/// <summary>
/// Byte order of multi-register values, named by where the bytes of the big-endian value A B C D land
/// on the wire. For 64-bit values the same rule extends to 8 bytes.
/// </summary>
public enum ModbusWordOrder
{
    /// <summary>Big-endian, high word first (Modbus default, §4.2).</summary>
    ABCD,
    /// <summary>Low word first, bytes big-endian within each word ("word swap").</summary>
    CDAB,
    /// <summary>High word first, bytes swapped within each word ("byte swap").</summary>
    BADC,
    /// <summary>Fully little-endian.</summary>
    DCBA,
}

/// <summary>Quality of a sample.</summary>
public enum ModbusQuality
{
    /// <summary>Read and decoded.</summary>
    Good,
    /// <summary>Not available; <see cref="ModbusSample.Reason"/> says why.</summary>
    Bad,
}

/// <summary>A point to poll. The host maps its configuration onto this.</summary>
/// <param name="Name">Tag name.</param>
/// <param name="UnitId">Modbus unit (slave) id.</param>
/// <param name="Area">Data area.</param>
/// <param name="Address">0-based wire address (manual register 3204 is wire 3203 on 1-based manuals).</param>
/// <param name="DataType">Interpretation.</param>
/// <param name="WordOrder">Byte order of multi-register values.</param>
/// <param name="Scale">Engineering value = raw × Scale + Offset.</param>
/// <param name="Offset">See <paramref name="Scale"/>.</param>
public sealed record ModbusTag(
    string Name,
    byte UnitId,
    ModbusArea Area,
    ushort Address,
    ModbusDataType DataType,
    ModbusWordOrder WordOrder = ModbusWordOrder.ABCD,
    double Scale = 1.0,
    double Offset = 0.0)
{
    /// <summary>Float32 stores integers exactly only up to 2^24.</summary>
    public const double Float32ExactLimit = 16_777_216;

    /// <summary>For <see cref="ModbusDataType.Bool"/> in a register area: which bit (0 = LSB).</summary>
    public int? BitIndex { get; init; }

    /// <summary>True when the tag is a totaliser (counter); enables the float32 precision warning.</summary>
    public bool IsCounter { get; init; }

    /// <summary>Registers (or bits, in bit areas) the tag spans.</summary>
    public int Width => Area is ModbusArea.Coil or ModbusArea.Discrete ? 1 : ModbusValueCodec.RegisterCount(DataType);

    /// <summary>
    /// Metadata warning for the tag's configuration, or null. A float32 totaliser is lossy above
    /// 2^24 = 16,777,216 raw units (domain-defaults.md "Meters (Modbus)").
    /// </summary>
    public string? MetadataWarning => IsCounter && DataType == ModbusDataType.Float32
        ? $"Tag {Name}: float32 totaliser holds about 7 significant digits and loses whole units above 2^24 (16,777,216 raw); prefer the BCD, int64 or integer+fraction registers of the device."
        : null;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        bool bitArea = Area is ModbusArea.Coil or ModbusArea.Discrete;
        if (bitArea && DataType != ModbusDataType.Bool)
        {
            throw new ArgumentException($"Tag {Name}: coils and discrete inputs are Bool.", nameof(DataType));
        }

        if (!bitArea && DataType == ModbusDataType.Bool && BitIndex is not (>= 0 and <= 15))
        {
            throw new ArgumentException($"Tag {Name}: a Bool in a register area needs BitIndex 0..15.", nameof(BitIndex));
        }

        if (Address + Width > 0x10000)
        {
            throw new ArgumentException($"Tag {Name}: address {Address} + {Width} runs past 65535.", nameof(Address));
        }

        if (double.IsNaN(Scale) || double.IsInfinity(Scale) || double.IsNaN(Offset) || double.IsInfinity(Offset))
        {
            throw new ArgumentException($"Tag {Name}: scale and offset must be finite.", nameof(Scale));
        }
    }
}

/// <summary>One reading of a tag.</summary>
/// <param name="Tag">The tag.</param>
/// <param name="Value">Engineering value; null when <paramref name="Quality"/> is Bad. Bools are 1/0.</param>
/// <param name="Timestamp">When the reply arrived (from the injected <see cref="TimeProvider"/>).</param>
/// <param name="Quality">Good or Bad.</param>
/// <param name="Reason">Why the sample is Bad (timeout, exception code, decode error), else null.</param>
public sealed record ModbusSample(ModbusTag Tag, double? Value, DateTimeOffset Timestamp, ModbusQuality Quality, string? Reason = null)
{
    /// <summary>True when a float32 raw value exceeded 2^24 in magnitude, so whole units may be lost.</summary>
    public bool Lossy { get; init; }
}
