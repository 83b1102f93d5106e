using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EdgeCollector.OpcUa.Encoding;

/// <summary>Reads one element of an array.</summary>
public delegate T UaElementReader<T>(ref UaBinaryReader reader);

/// <summary>
/// Reads OPC UA Binary (OPC 10000-6 §5.2) from a contiguous span. Every length is checked against
/// <see cref="UaDecodingLimits"/> and against the bytes that remain <em>before</em> anything is allocated;
/// malformed input throws <see cref="UaDecodingException"/> naming the clause, never another exception type.
/// </summary>
public ref struct UaBinaryReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _depth;

    /// <summary>Creates a reader over a span.</summary>
    public UaBinaryReader(ReadOnlySpan<byte> data, UaDecodingLimits? limits = null)
    {
        if (data.Length > (limits ?? UaDecodingLimits.Default).MaxMessageSize)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"Message of {data.Length} bytes exceeds MaxMessageSize (OPC 10000-6 §6.7.2)");
        _data = data;
        Limits = limits ?? UaDecodingLimits.Default;
        Position = 0;
        _depth = 0;
    }

    /// <summary>Creates a reader over a sequence (copied once if it spans several segments).</summary>
    public UaBinaryReader(ReadOnlySequence<byte> data, UaDecodingLimits? limits = null)
        : this(data.IsSingleSegment ? data.FirstSpan : CopyBounded(data, limits ?? UaDecodingLimits.Default), limits)
    {
    }

    private static byte[] CopyBounded(ReadOnlySequence<byte> data, UaDecodingLimits limits)
    {
        if (data.Length > limits.MaxMessageSize)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"Message of {data.Length} bytes exceeds MaxMessageSize (OPC 10000-6 §6.7.2)");
        return data.ToArray();
    }

    /// <summary>The limits in force.</summary>
    public UaDecodingLimits Limits { get; }

    /// <summary>Offset of the next byte.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes not yet read.</summary>
    public readonly int Remaining => _data.Length - Position;

    private ReadOnlySpan<byte> Take(int size, string what)
    {
        if (size < 0 || size > Remaining)
            throw new UaDecodingException($"{what} needs {size} bytes but {Remaining} remain (OPC 10000-6 §5.2.1)");
        var span = _data.Slice(Position, size);
        Position += size;
        return span;
    }

    /// <summary>Reads raw bytes without a length prefix.</summary>
    public ReadOnlySpan<byte> ReadRaw(int size) => Take(size, "raw bytes");

    public bool ReadBoolean() => Take(1, "Boolean")[0] != 0;

    public sbyte ReadSByte() => unchecked((sbyte)Take(1, "SByte")[0]);

    public byte ReadByte() => Take(1, "Byte")[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(Take(2, "Int16"));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, "UInt16"));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4, "Int32"));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "UInt32"));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8, "Int64"));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "UInt64"));

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4, "Float"));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, "Double"));

    // 00-03 Int32 length in bytes (-1 = null), then UTF-8 bytes.
    public string? ReadString()
    {
        var length = ReadInt32();
        if (length == -1)
            return null;
        if (length < -1 || length > Limits.MaxStringLength)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"String length {length} outside 0..{Limits.MaxStringLength} (OPC 10000-6 §5.2.2.4)");
        var bytes = Take(length, "String (OPC 10000-6 §5.2.2.4)");
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    public DateTime ReadDateTime() => UaDateTime.FromWire(ReadInt64());

    public Guid ReadGuid() => new(Take(16, "Guid (OPC 10000-6 §5.2.2.6)"));

    // 00-03 Int32 length (-1 = null), then the bytes.
    public byte[]? ReadByteString()
    {
        var length = ReadInt32();
        if (length == -1)
            return null;
        if (length < -1 || length > Limits.MaxByteStringLength)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"ByteString length {length} outside 0..{Limits.MaxByteStringLength} (OPC 10000-6 §5.2.2.7)");
        return Take(length, "ByteString (OPC 10000-6 §5.2.2.7)").ToArray();
    }

    public UaXmlElement ReadXmlElement() => new(ReadString());

    public StatusCode ReadStatusCode() => new(ReadUInt32());

    // 00 encoding byte; two-byte: 01 id; four-byte: 01 ns, 02-03 id; numeric: 01-02 ns, 03-06 id;
    // string/guid/bytestring: 01-02 ns then the identifier (OPC 10000-6 §5.2.2.9).
    public NodeId ReadNodeId()
    {
        var encoding = ReadByte();
        if ((encoding & 0xC0) != 0)
            throw new UaDecodingException($"NodeId encoding byte 0x{encoding:X2} has ExpandedNodeId flags (OPC 10000-6 §5.2.2.9)");
        return ReadNodeIdBody(encoding);
    }

    private NodeId ReadNodeIdBody(byte encoding)
    {
        switch (encoding & 0x3F)
        {
            case 0x00:
                return new NodeId(0, ReadByte());
            case 0x01:
                var ns = ReadByte();
                return new NodeId(ns, ReadUInt16());
            case 0x02:
                var ns2 = ReadUInt16();
                return new NodeId(ns2, ReadUInt32());
            case 0x03:
                var ns3 = ReadUInt16();
                return new NodeId(ns3, ReadString() ?? "");
            case 0x04:
                var ns4 = ReadUInt16();
                return new NodeId(ns4, ReadGuid());
            case 0x05:
                var ns5 = ReadUInt16();
                return new NodeId(ns5, ReadByteString() ?? []);
            default:
                throw new UaDecodingException($"Unknown NodeId encoding 0x{encoding:X2} (OPC 10000-6 §5.2.2.9)");
        }
    }

    // As NodeId, plus 0x80: String NamespaceUri follows; 0x40: UInt32 ServerIndex follows (OPC 10000-6 §5.2.2.10).
    public ExpandedNodeId ReadExpandedNodeId()
    {
        var encoding = ReadByte();
        var nodeId = ReadNodeIdBody(encoding);
        var uri = (encoding & 0x80) != 0 ? ReadString() : null;
        var server = (encoding & 0x40) != 0 ? ReadUInt32() : 0;
        return new ExpandedNodeId(nodeId, uri, server);
    }

    // 00-01 UInt16 namespace index, then String name (OPC 10000-6 §5.2.2.13).
    public QualifiedName ReadQualifiedName()
    {
        var ns = ReadUInt16();
        return new QualifiedName(ns, ReadString());
    }

    // 00 mask (0x01 locale, 0x02 text), then the present fields (OPC 10000-6 §5.2.2.14).
    public LocalizedText ReadLocalizedText()
    {
        var mask = ReadByte();
        if ((mask & 0xFC) != 0)
            throw new UaDecodingException($"LocalizedText mask 0x{mask:X2} has reserved bits (OPC 10000-6 §5.2.2.14)");
        var locale = (mask & 0x01) != 0 ? ReadString() : null;
        var text = (mask & 0x02) != 0 ? ReadString() : null;
        return new LocalizedText(locale, text);
    }

    private void Enter(string what)
    {
        if (++_depth > Limits.MaxNestingDepth)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"{what} nested deeper than {Limits.MaxNestingDepth} (OPC 10000-6 §5.2.2.16)");
    }

    // No try/finally around nested reads: a reader that threw is abandoned, so its depth need not be
    // restored, and unwinding stays cheap for hostile input.
    private void Leave() => _depth--;

    // 00.. NodeId type id; then Byte encoding (0 none, 1 ByteString, 2 XmlElement); then Int32 length + body
    // (OPC 10000-6 §5.2.2.15). Known binary types are decoded from exactly their body bytes.
    public ExtensionObject? ReadExtensionObject()
    {
        Enter("ExtensionObject");
        var result = ReadExtensionObjectCore();
        Leave();
        return result;
    }

    private ExtensionObject? ReadExtensionObjectCore()
    {
        var typeId = ReadExpandedNodeId();
        var encoding = ReadByte();
        if (encoding == 0)
            return typeId.NodeId.IsNull && typeId.NamespaceUri is null ? null : new ExtensionObject(typeId, 0, null);
        if (encoding > 2)
            throw new UaDecodingException($"ExtensionObject encoding {encoding} is not 0, 1 or 2 (OPC 10000-6 §5.2.2.15)");
        var length = ReadInt32();
        if (length < 0 || length > Remaining)
            throw new UaDecodingException($"ExtensionObject body length {length} exceeds the {Remaining} bytes left (OPC 10000-6 §5.2.2.15)");
        var body = Take(length, "ExtensionObject body");
        if (encoding == 1 && typeId.NamespaceUri is null && typeId.NodeId.NamespaceIndex == 0
            && UaTypeRegistry.TryCreate(typeId.NodeId, out var decoded))
        {
            var inner = new UaBinaryReader(body, Limits) { _depth = _depth };
            decoded.Decode(ref inner);
            return new ExtensionObject(decoded);
        }

        return new ExtensionObject(typeId, encoding, body.ToArray());
    }

    /// <summary>Reads an ExtensionObject and returns its body when it is of type <typeparamref name="T"/>.</summary>
    public T? ReadExtensionObject<T>()
        where T : class, IUaEncodeable => ReadExtensionObject()?.Body as T;

    // 00 mask: 0x01 value, 0x02 status, 0x04 source ts, 0x08 server ts, 0x10 source ps, 0x20 server ps;
    // fields in order value, status, source ts, source ps, server ts, server ps (OPC 10000-6 §5.2.2.17).
    public DataValue ReadDataValue()
    {
        Enter("DataValue");
        var result = ReadDataValueCore();
        Leave();
        return result;
    }

    private DataValue ReadDataValueCore()
    {
        var mask = ReadByte();
        if ((mask & 0xC0) != 0)
            throw new UaDecodingException($"DataValue mask 0x{mask:X2} has reserved bits (OPC 10000-6 §5.2.2.17)");
        var value = (mask & 0x01) != 0 ? ReadVariant() : Variant.Null;
        var status = (mask & 0x02) != 0 ? ReadStatusCode() : default;
        DateTime? sourceTs = (mask & 0x04) != 0 ? ReadDateTime() : null;
        var sourcePs = (mask & 0x10) != 0 ? ReadUInt16() : (ushort)0;
        DateTime? serverTs = (mask & 0x08) != 0 ? ReadDateTime() : null;
        var serverPs = (mask & 0x20) != 0 ? ReadUInt16() : (ushort)0;
        return new DataValue(value, status, sourceTs, serverTs) { SourcePicoseconds = sourcePs, ServerPicoseconds = serverPs };
    }

    /// <summary>
    /// Reads a DataValue into a <see cref="UaValue"/>: the same encoding and checks as <see cref="ReadDataValue"/>, but a
    /// scalar number, Boolean, DateTime or StatusCode is kept inline, so nothing is allocated for it.
    /// </summary>
    public UaValue ReadUaValue()
    {
        Enter("DataValue");
        var mask = ReadByte();
        if ((mask & 0xC0) != 0)
            throw new UaDecodingException($"DataValue mask 0x{mask:X2} has reserved bits (OPC 10000-6 §5.2.2.17)");
        var type = BuiltInType.Null;
        long bits = 0;
        object? value = null;
        int[]? dimensions = null;
        var inline = false;
        if ((mask & 0x01) != 0)
        {
            Enter("Variant");
            var variantMask = Remaining > 0 ? _data[Position] : (byte)0;
            inline = (variantMask & 0xC0) == 0 && TryReadInlineScalar((BuiltInType)(variantMask & 0x3F), out bits);
            if (inline)
            {
                type = (BuiltInType)variantMask;
            }
            else
            {
                var variant = ReadVariantCore();
                type = variant.Type;
                value = variant.Value;
                dimensions = variant.ArrayDimensions;
            }

            Leave();
        }

        var status = (mask & 0x02) != 0 ? ReadStatusCode() : default;
        DateTime? sourceTs = (mask & 0x04) != 0 ? ReadDateTime() : null;
        var sourcePs = (mask & 0x10) != 0 ? ReadUInt16() : (ushort)0;
        DateTime? serverTs = (mask & 0x08) != 0 ? ReadDateTime() : null;
        var serverPs = (mask & 0x20) != 0 ? ReadUInt16() : (ushort)0;
        Leave();
        return UaValue.FromWire(type, bits, value, dimensions, inline, status, sourceTs, sourcePs, serverTs, serverPs);
    }

    // After the Variant mask byte (not yet consumed): reads a scalar of a type UaValue keeps inline, consuming the
    // mask and the value; false (nothing consumed) for any other type.
    private bool TryReadInlineScalar(BuiltInType type, out long bits)
    {
        var size = type switch
        {
            BuiltInType.Boolean or BuiltInType.SByte or BuiltInType.Byte => 1,
            BuiltInType.Int16 or BuiltInType.UInt16 => 2,
            BuiltInType.Int32 or BuiltInType.UInt32 or BuiltInType.Float or BuiltInType.StatusCode => 4,
            BuiltInType.Int64 or BuiltInType.UInt64 or BuiltInType.Double or BuiltInType.DateTime => 8,
            _ => 0,
        };
        if (size == 0 || Remaining < 1 + size)
        {
            // Unknown types and truncated values go the general way, which reports them.
            bits = 0;
            return false;
        }

        Position++;
        bits = type switch
        {
            BuiltInType.Boolean => ReadBoolean() ? 1 : 0,
            BuiltInType.SByte => ReadSByte(),
            BuiltInType.Byte => ReadByte(),
            BuiltInType.Int16 => ReadInt16(),
            BuiltInType.UInt16 => ReadUInt16(),
            BuiltInType.Int32 => ReadInt32(),
            BuiltInType.UInt32 => ReadUInt32(),
            BuiltInType.Float => BitConverter.SingleToInt32Bits(ReadFloat()),
            BuiltInType.StatusCode => ReadUInt32(),
            BuiltInType.Int64 => ReadInt64(),
            BuiltInType.UInt64 => unchecked((long)ReadUInt64()),
            BuiltInType.Double => BitConverter.DoubleToInt64Bits(ReadDouble()),
            _ => ReadDateTime().ToBinary(),
        };
        return true;
    }

    // 00 mask: bits 0-5 type id, 0x80 array, 0x40 dimensions; scalar value, or Int32 count + elements then
    // Int32 count + Int32 dimensions (OPC 10000-6 §5.2.2.16).
    public Variant ReadVariant()
    {
        Enter("Variant");
        var result = ReadVariantCore();
        Leave();
        return result;
    }

    private Variant ReadVariantCore()
    {
        var mask = ReadByte();
        var type = (BuiltInType)(mask & 0x3F);
        if ((byte)type > 25)
            throw new UaDecodingException($"Variant type id {(byte)type} is not a built-in type (OPC 10000-6 §5.2.2.16)");
        if ((mask & 0x80) == 0)
        {
            if ((mask & 0x40) != 0)
                throw new UaDecodingException("Variant has dimensions but no array (OPC 10000-6 §5.2.2.16)");
            if (type == BuiltInType.Null)
                return Variant.Null;
            if (type == BuiltInType.Variant)
                throw new UaDecodingException("A Variant cannot contain a scalar Variant (OPC 10000-6 §5.2.2.16)");
            return new Variant(type, ReadScalar(type));
        }

        var length = ReadArrayLength("Variant array");
        if (length < 0)
            return type == BuiltInType.Null ? Variant.Null : new Variant(type, CreateArray(type, 0));
        if (type == BuiltInType.Null && length > 0)
            throw new UaDecodingException("Variant array of Null elements (OPC 10000-6 §5.2.2.16)");
        var array = CreateArray(type, length);
        for (var i = 0; i < length; i++)
            array.SetValue(ReadScalar(type), i);
        int[]? dims = null;
        if ((mask & 0x40) != 0)
        {
            var dimCount = ReadArrayLength("Variant dimensions");
            if (dimCount < 1)
                throw new UaDecodingException("Variant dimensions missing (OPC 10000-6 §5.2.2.16)");
            dims = new int[dimCount];
            long product = 1;
            for (var i = 0; i < dimCount; i++)
            {
                dims[i] = ReadInt32();
                if (dims[i] < 0)
                    throw new UaDecodingException("Variant dimension is negative (OPC 10000-6 §5.2.2.16)");
                product = Math.Min(product * dims[i], int.MaxValue);
            }

            if (product != length)
                throw new UaDecodingException($"Variant dimensions multiply to {product}, array has {length} (OPC 10000-6 §5.2.2.16)");
        }

        return new Variant(type, array, dims);
    }

    private static Array CreateArray(BuiltInType type, int length) => type switch
    {
        BuiltInType.Boolean => new bool[length],
        BuiltInType.SByte => new sbyte[length],
        BuiltInType.Byte => new byte[length],
        BuiltInType.Int16 => new short[length],
        BuiltInType.UInt16 => new ushort[length],
        BuiltInType.Int32 => new int[length],
        BuiltInType.UInt32 => new uint[length],
        BuiltInType.Int64 => new long[length],
        BuiltInType.UInt64 => new ulong[length],
        BuiltInType.Float => new float[length],
        BuiltInType.Double => new double[length],
        BuiltInType.String => new string?[length],
        BuiltInType.DateTime => new DateTime[length],
        BuiltInType.Guid => new Guid[length],
        BuiltInType.ByteString => new byte[]?[length],
        BuiltInType.XmlElement => new UaXmlElement[length],
        BuiltInType.NodeId => new NodeId[length],
        BuiltInType.ExpandedNodeId => new ExpandedNodeId[length],
        BuiltInType.StatusCode => new StatusCode[length],
        BuiltInType.QualifiedName => new QualifiedName[length],
        BuiltInType.LocalizedText => new LocalizedText[length],
        BuiltInType.ExtensionObject => new ExtensionObject?[length],
        BuiltInType.DataValue => new DataValue[length],
        BuiltInType.Variant => new Variant[length],
        BuiltInType.DiagnosticInfo => new DiagnosticInfo?[length],
        _ => Array.Empty<object>(),
    };

    private object? ReadScalar(BuiltInType type) => type switch
    {
        BuiltInType.Boolean => ReadBoolean(),
        BuiltInType.SByte => ReadSByte(),
        BuiltInType.Byte => ReadByte(),
        BuiltInType.Int16 => ReadInt16(),
        BuiltInType.UInt16 => ReadUInt16(),
        BuiltInType.Int32 => ReadInt32(),
        BuiltInType.UInt32 => ReadUInt32(),
        BuiltInType.Int64 => ReadInt64(),
        BuiltInType.UInt64 => ReadUInt64(),
        BuiltInType.Float => ReadFloat(),
        BuiltInType.Double => ReadDouble(),
        BuiltInType.String => ReadString(),
        BuiltInType.DateTime => ReadDateTime(),
        BuiltInType.Guid => ReadGuid(),
        BuiltInType.ByteString => ReadByteString(),
        BuiltInType.XmlElement => ReadXmlElement(),
        BuiltInType.NodeId => ReadNodeId(),
        BuiltInType.ExpandedNodeId => ReadExpandedNodeId(),
        BuiltInType.StatusCode => ReadStatusCode(),
        BuiltInType.QualifiedName => ReadQualifiedName(),
        BuiltInType.LocalizedText => ReadLocalizedText(),
        BuiltInType.ExtensionObject => ReadExtensionObject(),
        BuiltInType.DataValue => ReadDataValue(),
        BuiltInType.Variant => ReadVariant(),
        BuiltInType.DiagnosticInfo => ReadDiagnosticInfo(),
        _ => throw new UaDecodingException($"Built-in type {type} is not valid here (OPC 10000-6 §5.1.2)"),
    };

    // 00 mask: 0x01 SymbolicId, 0x02 NamespaceUri, 0x04 LocalizedText, 0x08 Locale, 0x10 AdditionalInfo,
    // 0x20 InnerStatusCode, 0x40 InnerDiagnosticInfo; fields in order SymbolicId, NamespaceUri, Locale,
    // LocalizedText, AdditionalInfo, InnerStatusCode, InnerDiagnosticInfo (OPC 10000-6 §5.2.2.12).
    public DiagnosticInfo? ReadDiagnosticInfo()
    {
        Enter("DiagnosticInfo");
        var result = ReadDiagnosticInfoCore();
        Leave();
        return result;
    }

    private DiagnosticInfo? ReadDiagnosticInfoCore()
    {
        var mask = ReadByte();
        if (mask == 0)
            return null;
        if ((mask & 0x80) != 0)
            throw new UaDecodingException($"DiagnosticInfo mask 0x{mask:X2} has reserved bits (OPC 10000-6 §5.2.2.12)");
        var symbolic = (mask & 0x01) != 0 ? ReadInt32() : -1;
        var ns = (mask & 0x02) != 0 ? ReadInt32() : -1;
        var locale = (mask & 0x08) != 0 ? ReadInt32() : -1;
        var text = (mask & 0x04) != 0 ? ReadInt32() : -1;
        var info = (mask & 0x10) != 0 ? ReadString() : null;
        StatusCode? inner = (mask & 0x20) != 0 ? ReadStatusCode() : null;
        var innerDiag = (mask & 0x40) != 0 ? ReadDiagnosticInfo() ?? new DiagnosticInfo() : null;
        return new DiagnosticInfo
        {
            SymbolicId = symbolic, NamespaceUri = ns, Locale = locale, LocalizedText = text,
            AdditionalInfo = info, InnerStatusCode = inner, InnerDiagnosticInfo = innerDiag,
        };
    }

    /// <summary>
    /// Reads an Int32 array length: -1 is null, other negatives are malformed, and a count above
    /// MaxArrayLength or above the bytes left (every element takes at least one byte) is refused before allocating.
    /// </summary>
    public int ReadArrayLength(string what)
    {
        var length = ReadInt32();
        if (length == -1)
            return -1;
        if (length < -1)
            throw new UaDecodingException($"{what} length {length} is negative (OPC 10000-6 §5.2.5)");
        if (length > Limits.MaxArrayLength)
            throw new UaDecodingException(StatusCodes.BadEncodingLimitsExceeded, $"{what} length {length} exceeds MaxArrayLength {Limits.MaxArrayLength} (OPC 10000-6 §5.2.5)");
        if (length > Remaining)
            throw new UaDecodingException($"{what} length {length} exceeds the {Remaining} bytes left (OPC 10000-6 §5.2.5)");
        return length;
    }

    /// <summary>Int32 count (-1 null) then the elements (OPC 10000-6 §5.2.5).</summary>
    public T[]? ReadArray<T>(UaElementReader<T> readElement)
    {
        ArgumentNullException.ThrowIfNull(readElement);
        var length = ReadArrayLength(typeof(T).Name + " array");
        if (length < 0)
            return null;
        var result = new T[length];
        for (var i = 0; i < length; i++)
            result[i] = readElement(ref this);
        return result;
    }

    /// <summary>Reads an array of structures encoded in place.</summary>
    public T[]? ReadEncodeableArray<T>()
        where T : IUaEncodeable, new() => ReadArray(static (ref UaBinaryReader r) =>
        {
            var item = new T();
            item.Decode(ref r);
            return item;
        });

    /// <summary>Reads a structure encoded in place.</summary>
    public T ReadEncodeable<T>()
        where T : IUaEncodeable, new()
    {
        var item = new T();
        item.Decode(ref this);
        return item;
    }

    /// <summary>Reads a type id NodeId and the registered message it names.</summary>
    public IUaEncodeable ReadMessage()
    {
        var typeId = ReadNodeId();
        if (!UaTypeRegistry.TryCreate(typeId, out var message))
            throw new UaDecodingException(StatusCodes.BadDataTypeIdUnknown, $"Message type {typeId} is not known (OPC 10000-6 §7.1.2.4)");
        message.Decode(ref this);
        return message;
    }
}
