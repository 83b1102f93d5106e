namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// A DataValue (OPC 10000-4 §7.11, encoding OPC 10000-6 §5.2.2.17) held in a struct: scalar numbers, Booleans,
/// DateTimes and StatusCodes are stored inline, so reading one from the wire (<see cref="UaBinaryReader.ReadUaValue"/>)
/// allocates nothing. Other values (strings, arrays, structures…) are held as in <see cref="Variant"/>.
/// <see cref="ToDataValue"/> and <see cref="Variant"/> give the usual classes when they are needed.
/// </summary>
public readonly struct UaValue
{
    private const byte HasSource = 0x01;
    private const byte HasServer = 0x02;
    private const byte Inline = 0x04;

    private readonly object? _object;
    private readonly int[]? _dimensions;
    private readonly long _bits;
    private readonly long _sourceTicks; // DateTime.ToBinary()
    private readonly long _serverTicks;
    private readonly ushort _sourcePicoseconds;
    private readonly ushort _serverPicoseconds;
    private readonly BuiltInType _type;
    private readonly byte _flags;

    private UaValue(BuiltInType type, long bits, object? value, int[]? dimensions, byte flags, StatusCode status,
        long sourceTicks, ushort sourcePicoseconds, long serverTicks, ushort serverPicoseconds)
    {
        _type = type;
        _bits = bits;
        _object = value;
        _dimensions = dimensions;
        _flags = flags;
        Status = status;
        _sourceTicks = sourceTicks;
        _sourcePicoseconds = sourcePicoseconds;
        _serverTicks = serverTicks;
        _serverPicoseconds = serverPicoseconds;
    }

    /// <summary>The built-in type of the value (Null when the DataValue has none).</summary>
    public BuiltInType Type => _type;

    /// <summary>True when the DataValue carries no value.</summary>
    public bool IsNull => _type == BuiltInType.Null;

    /// <summary>True when the value is an array or matrix.</summary>
    public bool IsArray => (_flags & Inline) == 0 && _object is Array && !(_type == BuiltInType.ByteString && _object is byte[]);

    /// <summary>The quality of the value.</summary>
    public StatusCode Status { get; }

    /// <summary>When the source produced the value (UTC), when known.</summary>
    public DateTime? SourceTimestamp => (_flags & HasSource) != 0 ? DateTime.FromBinary(_sourceTicks) : null;

    /// <summary>Picoseconds on top of <see cref="SourceTimestamp"/>.</summary>
    public ushort SourcePicoseconds => _sourcePicoseconds;

    /// <summary>When the server received the value (UTC), when known.</summary>
    public DateTime? ServerTimestamp => (_flags & HasServer) != 0 ? DateTime.FromBinary(_serverTicks) : null;

    /// <summary>Picoseconds on top of <see cref="ServerTimestamp"/>.</summary>
    public ushort ServerPicoseconds => _serverPicoseconds;

    /// <summary>
    /// The value as a double without allocating when it is a scalar number or Boolean (true = 1), as
    /// <see cref="Encoding.Variant.AsDouble"/> does; false for any other value.
    /// </summary>
    public bool TryGetDouble(out double value)
    {
        if ((_flags & Inline) == 0)
        {
            value = 0;
            return false;
        }

        switch (_type)
        {
            case BuiltInType.Boolean:
            case BuiltInType.SByte:
            case BuiltInType.Byte:
            case BuiltInType.Int16:
            case BuiltInType.UInt16:
            case BuiltInType.Int32:
            case BuiltInType.UInt32:
            case BuiltInType.Int64:
                value = _bits;
                return true;
            case BuiltInType.UInt64:
                value = unchecked((ulong)_bits);
                return true;
            case BuiltInType.Float:
                value = BitConverter.Int32BitsToSingle(unchecked((int)_bits));
                return true;
            case BuiltInType.Double:
                value = BitConverter.Int64BitsToDouble(_bits);
                return true;
            default:
                value = 0;
                return false;
        }
    }

    /// <summary>The value as a double when it is a scalar number or Boolean, else null (no allocation).</summary>
    public double? AsDouble() => TryGetDouble(out var value) ? value : null;

    /// <summary>The value as a <see cref="Encoding.Variant"/> (boxes an inline scalar).</summary>
    public Variant Variant => (_flags & Inline) == 0
        ? (_type == BuiltInType.Null ? Variant.Null : new Variant(_type, _object, _dimensions))
        : new Variant(_type, Box());

    private object Box() => _type switch
    {
        BuiltInType.Boolean => _bits != 0,
        BuiltInType.SByte => (sbyte)_bits,
        BuiltInType.Byte => (byte)_bits,
        BuiltInType.Int16 => (short)_bits,
        BuiltInType.UInt16 => (ushort)_bits,
        BuiltInType.Int32 => (int)_bits,
        BuiltInType.UInt32 => (uint)_bits,
        BuiltInType.Int64 => _bits,
        BuiltInType.UInt64 => unchecked((ulong)_bits),
        BuiltInType.Float => BitConverter.Int32BitsToSingle(unchecked((int)_bits)),
        BuiltInType.Double => BitConverter.Int64BitsToDouble(_bits),
        BuiltInType.DateTime => DateTime.FromBinary(_bits),
        BuiltInType.StatusCode => new StatusCode(unchecked((uint)_bits)),
        _ => throw new InvalidOperationException($"{_type} is not stored inline"),
    };

    /// <summary>The DataValue class with the same content.</summary>
    public DataValue ToDataValue() =>
        new(Variant, Status, SourceTimestamp, ServerTimestamp) { SourcePicoseconds = _sourcePicoseconds, ServerPicoseconds = _serverPicoseconds };

    /// <summary>A UaValue with the content of <paramref name="value"/> (scalars that can be inline are stored inline).</summary>
    public static UaValue From(DataValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var v = value.Value;
        var flags = (byte)((value.SourceTimestamp is null ? 0 : HasSource) | (value.ServerTimestamp is null ? 0 : HasServer));
        long bits = 0;
        object? boxed = v.Value;
        if (v.ArrayDimensions is null && TryInline(v.Value, out bits))
        {
            flags |= Inline;
            boxed = null;
        }

        return new UaValue(v.Type, bits, boxed, v.ArrayDimensions, flags, value.Status,
            value.SourceTimestamp?.ToBinary() ?? 0, value.SourcePicoseconds, value.ServerTimestamp?.ToBinary() ?? 0, value.ServerPicoseconds);
    }

    private static bool TryInline(object? value, out long bits)
    {
        switch (value)
        {
            case bool b: bits = b ? 1 : 0; return true;
            case sbyte x: bits = x; return true;
            case byte x: bits = x; return true;
            case short x: bits = x; return true;
            case ushort x: bits = x; return true;
            case int x: bits = x; return true;
            case uint x: bits = x; return true;
            case long x: bits = x; return true;
            case ulong x: bits = unchecked((long)x); return true;
            case float x: bits = BitConverter.SingleToInt32Bits(x); return true;
            case double x: bits = BitConverter.DoubleToInt64Bits(x); return true;
            case DateTime x: bits = x.ToBinary(); return true;
            case StatusCode x: bits = x.Code; return true;
            default: bits = 0; return false;
        }
    }

    /// <summary>Builds a value read from the wire; <paramref name="bits"/> holds an inline scalar (DateTime as <see cref="DateTime.ToBinary"/>).</summary>
    internal static UaValue FromWire(BuiltInType type, long bits, object? value, int[]? dimensions, bool inline, StatusCode status,
        DateTime? source, ushort sourcePicoseconds, DateTime? server, ushort serverPicoseconds)
    {
        var flags = (byte)((inline ? Inline : 0) | (source is null ? 0 : HasSource) | (server is null ? 0 : HasServer));
        return new UaValue(type, bits, value, dimensions, flags, status, source?.ToBinary() ?? 0, sourcePicoseconds, server?.ToBinary() ?? 0, serverPicoseconds);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Variant} {Status} {SourceTimestamp:O}";
}
