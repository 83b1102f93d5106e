namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// A value of any built-in type, a one-dimensional array of one, or a matrix (OPC 10000-6 §5.2.2.16).
/// Scalars are held as their CLR type (see <see cref="BuiltInType"/>); arrays as typed CLR arrays
/// (<c>int[]</c>, <c>string?[]</c>, <c>Variant[]</c>…); a matrix as its flattened array plus <see cref="ArrayDimensions"/>.
/// </summary>
public readonly struct Variant : IEquatable<Variant>
{
    /// <summary>The null Variant.</summary>
    public static readonly Variant Null;

    /// <summary>Creates a Variant with an explicit type (the value must be the matching CLR type or array of it).</summary>
    public Variant(BuiltInType type, object? value, int[]? arrayDimensions = null)
    {
        Type = value is null && arrayDimensions is null ? BuiltInType.Null : type;
        Value = value;
        ArrayDimensions = arrayDimensions;
    }

    /// <summary>Creates a Variant, inferring the built-in type from the CLR type of <paramref name="value"/>.</summary>
    public Variant(object? value)
    {
        Value = value;
        ArrayDimensions = null;
        Type = value is null ? BuiltInType.Null : TypeOf(value) ?? throw new ArgumentException($"No OPC UA built-in type for {value.GetType()}", nameof(value));
    }

    /// <summary>The built-in type of the value or of the array elements.</summary>
    public BuiltInType Type { get; }

    /// <summary>The value (scalar, typed array, or flattened matrix).</summary>
    public object? Value { get; }

    /// <summary>Dimensions when the value is a matrix, else null.</summary>
    public int[]? ArrayDimensions { get; }

    /// <summary>True when the value is an array or matrix.</summary>
    public bool IsArray => Value is Array && !(Type == BuiltInType.ByteString && Value is byte[]);

    /// <summary>True for the null Variant.</summary>
    public bool IsNull => Type == BuiltInType.Null;

    /// <summary>The built-in type for a CLR scalar or array type, or null.</summary>
    public static BuiltInType? TypeOf(object value)
    {
        ArgumentNullException.ThrowIfNull(value);

        // Exact type lookup: the CLR lets byte[] pass "is sbyte[]" (and int[] "is uint[]"), so patterns would misclassify arrays.
        var type = value.GetType();
        if (ClrTypes.TryGetValue(type.IsArray && type != typeof(byte[]) ? type.GetElementType()! : type, out var builtIn))
            return builtIn;
        return value switch
        {
            NodeId or NodeId[] => BuiltInType.NodeId,
            ExpandedNodeId or ExpandedNodeId[] => BuiltInType.ExpandedNodeId,
            QualifiedName or QualifiedName[] => BuiltInType.QualifiedName,
            LocalizedText or LocalizedText[] => BuiltInType.LocalizedText,
            ExtensionObject or ExtensionObject[] => BuiltInType.ExtensionObject,
            DataValue or DataValue[] => BuiltInType.DataValue,
            DiagnosticInfo or DiagnosticInfo[] => BuiltInType.DiagnosticInfo,
            _ => null,
        };
    }

    private static readonly Dictionary<Type, BuiltInType> ClrTypes = new()
    {
        [typeof(bool)] = BuiltInType.Boolean,
        [typeof(sbyte)] = BuiltInType.SByte,
        [typeof(byte)] = BuiltInType.Byte,
        [typeof(short)] = BuiltInType.Int16,
        [typeof(ushort)] = BuiltInType.UInt16,
        [typeof(int)] = BuiltInType.Int32,
        [typeof(uint)] = BuiltInType.UInt32,
        [typeof(long)] = BuiltInType.Int64,
        [typeof(ulong)] = BuiltInType.UInt64,
        [typeof(float)] = BuiltInType.Float,
        [typeof(double)] = BuiltInType.Double,
        [typeof(string)] = BuiltInType.String,
        [typeof(DateTime)] = BuiltInType.DateTime,
        [typeof(Guid)] = BuiltInType.Guid,
        [typeof(byte[])] = BuiltInType.ByteString,
        [typeof(UaXmlElement)] = BuiltInType.XmlElement,
        [typeof(StatusCode)] = BuiltInType.StatusCode,
        [typeof(Variant)] = BuiltInType.Variant,
    };

    /// <summary>The value as a double when it is numeric (for deadbands and display), else null.</summary>
    public double? AsDouble() => Value switch
    {
        bool b => b ? 1 : 0,
        sbyte v => v,
        byte v => v,
        short v => v,
        ushort v => v,
        int v => v,
        uint v => v,
        long v => v,
        ulong v => v,
        float v => v,
        double v => v,
        _ => null,
    };

    /// <inheritdoc />
    public bool Equals(Variant other)
    {
        if (Type != other.Type)
            return false;
        if (!DimensionsEqual(ArrayDimensions, other.ArrayDimensions))
            return false;
        return ValueEquals(Value, other.Value);
    }

    private static bool DimensionsEqual(int[]? a, int[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    internal static bool ValueEquals(object? a, object? b)
    {
        if (a is null || b is null)
            return a is null && b is null;
        if (a is Array arrayA && b is Array arrayB)
        {
            if (arrayA.Length != arrayB.Length || a.GetType() != b.GetType())
                return false;
            for (var i = 0; i < arrayA.Length; i++)
            {
                if (!ValueEquals(arrayA.GetValue(i), arrayB.GetValue(i)))
                    return false;
            }

            return true;
        }

        if (a is double da && b is double db)
            return da.Equals(db);
        if (a is float fa && b is float fb)
            return fa.Equals(fb);
        return a.Equals(b);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Variant other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Value is Array ? 0 : Value?.GetHashCode() ?? 0);

    /// <inheritdoc />
    public override string ToString() => Value switch
    {
        null => "null",
        byte[] bytes => Convert.ToHexString(bytes),
        Array array => $"{Type}[{array.Length}]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };

    /// <summary>Value equality.</summary>
    public static bool operator ==(Variant left, Variant right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Variant left, Variant right) => !left.Equals(right);
}

/// <summary>
/// A value with its quality and timestamps (OPC 10000-4 §7.11, encoding OPC 10000-6 §5.2.2.17).
/// </summary>
public sealed record DataValue
{
    /// <summary>Creates an empty DataValue.</summary>
    public DataValue()
    {
    }

    /// <summary>Creates a DataValue.</summary>
    public DataValue(Variant value, StatusCode status = default, DateTime? sourceTimestamp = null, DateTime? serverTimestamp = null)
    {
        Value = value;
        Status = status;
        SourceTimestamp = sourceTimestamp;
        ServerTimestamp = serverTimestamp;
    }

    /// <summary>The value.</summary>
    public Variant Value { get; init; }

    /// <summary>The quality of the value.</summary>
    public StatusCode Status { get; init; }

    /// <summary>When the source produced the value (UTC), when known.</summary>
    public DateTime? SourceTimestamp { get; init; }

    /// <summary>Picoseconds on top of <see cref="SourceTimestamp"/>.</summary>
    public ushort SourcePicoseconds { get; init; }

    /// <summary>When the server received the value (UTC), when known.</summary>
    public DateTime? ServerTimestamp { get; init; }

    /// <summary>Picoseconds on top of <see cref="ServerTimestamp"/>.</summary>
    public ushort ServerPicoseconds { get; init; }
}

/// <summary>Vendor diagnostics attached to a result (OPC 10000-4 §7.8, encoding OPC 10000-6 §5.2.2.12).</summary>
public sealed record DiagnosticInfo
{
    /// <summary>Index of the symbolic id in the response string table, or -1.</summary>
    public int SymbolicId { get; init; } = -1;

    /// <summary>Index of the namespace URI in the string table, or -1.</summary>
    public int NamespaceUri { get; init; } = -1;

    /// <summary>Index of the locale in the string table, or -1.</summary>
    public int Locale { get; init; } = -1;

    /// <summary>Index of the localized text in the string table, or -1.</summary>
    public int LocalizedText { get; init; } = -1;

    /// <summary>Vendor text.</summary>
    public string? AdditionalInfo { get; init; }

    /// <summary>Status of an underlying system, if any.</summary>
    public StatusCode? InnerStatusCode { get; init; }

    /// <summary>Diagnostics of an underlying system, if any.</summary>
    public DiagnosticInfo? InnerDiagnosticInfo { get; init; }
}

/// <summary>
/// A structure carried by type id (OPC 10000-6 §5.2.2.15). Known types are decoded into <see cref="Body"/>
/// (an <see cref="IUaEncodeable"/>); unknown ones keep their raw bytes in <see cref="RawBody"/>.
/// </summary>
public sealed record ExtensionObject
{
    /// <summary>Wraps a known structure; the type id is its binary encoding id.</summary>
    public ExtensionObject(IUaEncodeable body)
    {
        ArgumentNullException.ThrowIfNull(body);
        TypeId = body.BinaryEncodingId;
        Body = body;
    }

    /// <summary>Creates an ExtensionObject with a raw body (encoding 0 = none, 1 = binary, 2 = XML).</summary>
    public ExtensionObject(ExpandedNodeId typeId, byte encoding, byte[]? rawBody)
    {
        TypeId = typeId;
        Encoding = encoding;
        RawBody = rawBody;
    }

    /// <summary>The data type encoding id.</summary>
    public ExpandedNodeId TypeId { get; }

    /// <summary>0 no body, 1 ByteString (binary), 2 XmlElement.</summary>
    public byte Encoding { get; } = 1;

    /// <summary>The decoded body, for registered types.</summary>
    public IUaEncodeable? Body { get; }

    /// <summary>The raw body bytes, for unknown or XML bodies.</summary>
    public byte[]? RawBody { get; }

    /// <inheritdoc />
    public bool Equals(ExtensionObject? other) =>
        other is not null && TypeId == other.TypeId && Encoding == other.Encoding
        && (Body is null ? other.Body is null : other.Body is not null && UaBinaryWriter.EncodeToArray(Body).AsSpan().SequenceEqual(UaBinaryWriter.EncodeToArray(other.Body)))
        && (RawBody is null ? other.RawBody is null : other.RawBody is not null && RawBody.AsSpan().SequenceEqual(other.RawBody));

    /// <inheritdoc />
    public override int GetHashCode() => TypeId.GetHashCode();
}

/// <summary>A structure with an OPC UA binary encoding (OPC 10000-6 §5.2.6).</summary>
public interface IUaEncodeable
{
    /// <summary>The DataTypeEncoding node id of the "Default Binary" encoding (namespace 0).</summary>
    NodeId BinaryEncodingId { get; }

    /// <summary>Writes the fields in declaration order.</summary>
    void Encode(UaBinaryWriter writer);

    /// <summary>Reads the fields in declaration order.</summary>
    void Decode(ref UaBinaryReader reader);
}
