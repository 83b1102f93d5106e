using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// Writes OPC UA Binary (OPC 10000-6 §5.2) into an <see cref="IBufferWriter{T}"/>; all multi-byte
/// values little-endian. No I/O: the caller owns the buffer.
/// </summary>
public sealed class UaBinaryWriter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer over <paramref name="output"/>.</summary>
    public UaBinaryWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    /// <summary>Bytes written so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Encodes one structure into a new array (type id not included).</summary>
    public static byte[] EncodeToArray(IUaEncodeable value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var buffer = new ArrayBufferWriter<byte>(256);
        value.Encode(new UaBinaryWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private Span<byte> Take(int size) => _output.GetSpan(size);

    private void Done(int size)
    {
        _output.Advance(size);
        BytesWritten += size;
    }

    /// <summary>Raw bytes without a length prefix.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Take(bytes.Length));
        Done(bytes.Length);
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteSByte(sbyte value) => WriteByte(unchecked((byte)value));

    public void WriteByte(byte value)
    {
        Take(1)[0] = value;
        Done(1);
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(Take(2), value);
        Done(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);
        Done(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);
        Done(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);
        Done(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);
        Done(8);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);
        Done(8);
    }

    public void WriteFloat(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Take(4), value);
        Done(4);
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Take(8), value);
        Done(8);
    }

    /// <summary>Int32 byte length (-1 for null) then UTF-8 (OPC 10000-6 §5.2.2.4).</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }

        var length = System.Text.Encoding.UTF8.GetByteCount(value);
        WriteInt32(length);
        var span = Take(length);
        System.Text.Encoding.UTF8.GetBytes(value, span);
        Done(length);
    }

    /// <summary>Int64 count of 100 ns since 1601-01-01 UTC; out-of-range values clamp to 0 / Int64.MaxValue (OPC 10000-6 §5.2.2.5).</summary>
    public void WriteDateTime(DateTime value) => WriteInt64(UaDateTime.ToWire(value));

    /// <summary>Data1 UInt32, Data2 UInt16, Data3 UInt16, Data4 8 bytes, little-endian fields (OPC 10000-6 §5.2.2.6).</summary>
    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(Take(16));
        Done(16);
    }

    /// <summary>Int32 length (-1 for null) then the bytes (OPC 10000-6 §5.2.2.7).</summary>
    public void WriteByteString(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a nullable ByteString.</summary>
    public void WriteByteString(byte[]? value)
    {
        if (value is null)
            WriteInt32(-1);
        else
            WriteByteString(value.AsSpan());
    }

    public void WriteXmlElement(UaXmlElement value) => WriteString(value.Xml);

    public void WriteStatusCode(StatusCode value) => WriteUInt32(value.Code);

    // NodeId encodings (OPC 10000-6 §5.2.2.9): 0x00 two-byte, 0x01 four-byte, 0x02 numeric,
    // 0x03 string, 0x04 guid, 0x05 bytestring; ExpandedNodeId adds 0x80 (uri) and 0x40 (server index).
    public void WriteNodeId(NodeId? value) => WriteNodeId(value ?? NodeId.Null, 0);

    private void WriteNodeId(NodeId value, byte flags)
    {
        switch (value.IdType)
        {
            case IdType.Numeric:
                var id = value.NumericId;
                if (value.NamespaceIndex == 0 && id <= byte.MaxValue)
                {
                    WriteByte(flags);
                    WriteByte((byte)id);
                }
                else if (value.NamespaceIndex <= byte.MaxValue && id <= ushort.MaxValue)
                {
                    WriteByte((byte)(0x01 | flags));
                    WriteByte((byte)value.NamespaceIndex);
                    WriteUInt16((ushort)id);
                }
                else
                {
                    WriteByte((byte)(0x02 | flags));
                    WriteUInt16(value.NamespaceIndex);
                    WriteUInt32(id);
                }

                break;
            case IdType.String:
                WriteByte((byte)(0x03 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteString((string)value.Identifier);
                break;
            case IdType.Guid:
                WriteByte((byte)(0x04 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteGuid((Guid)value.Identifier);
                break;
            default:
                WriteByte((byte)(0x05 | flags));
                WriteUInt16(value.NamespaceIndex);
                WriteByteString((byte[])value.Identifier);
                break;
        }
    }

    public void WriteExpandedNodeId(ExpandedNodeId? value)
    {
        value ??= ExpandedNodeId.Null;
        byte flags = 0;
        if (value.NamespaceUri is not null)
            flags |= 0x80;
        if (value.ServerIndex != 0)
            flags |= 0x40;
        WriteNodeId(value.NodeId, flags);
        if (value.NamespaceUri is not null)
            WriteString(value.NamespaceUri);
        if (value.ServerIndex != 0)
            WriteUInt32(value.ServerIndex);
    }

    public void WriteQualifiedName(QualifiedName? value)
    {
        value ??= QualifiedName.Null;
        WriteUInt16(value.NamespaceIndex);
        WriteString(value.Name);
    }

    /// <summary>Mask 0x01 locale, 0x02 text (OPC 10000-6 §5.2.2.14).</summary>
    public void WriteLocalizedText(LocalizedText? value)
    {
        value ??= LocalizedText.Null;
        byte mask = 0;
        if (value.Locale is not null)
            mask |= 0x01;
        if (value.Text is not null)
            mask |= 0x02;
        WriteByte(mask);
        if (value.Locale is not null)
            WriteString(value.Locale);
        if (value.Text is not null)
            WriteString(value.Text);
    }

    /// <summary>TypeId NodeId, encoding byte, Int32-prefixed body (OPC 10000-6 §5.2.2.15).</summary>
    public void WriteExtensionObject(ExtensionObject? value)
    {
        if (value is null)
        {
            WriteNodeId(NodeId.Null);
            WriteByte(0);
            return;
        }

        WriteExpandedNodeId(value.TypeId);
        if (value.Body is not null)
        {
            WriteByte(1);
            WriteByteString(EncodeToArray(value.Body));
            return;
        }

        WriteByte(value.Encoding);
        if (value.Encoding != 0)
            WriteByteString(value.RawBody ?? []);
    }

    /// <summary>Writes a structure as an ExtensionObject, or the null ExtensionObject.</summary>
    public void WriteExtensionObject(IUaEncodeable? body) => WriteExtensionObject(body is null ? null : new ExtensionObject(body));

    /// <summary>Mask 0x01 value, 0x02 status, 0x04 source ts, 0x08 server ts, 0x10 source ps, 0x20 server ps (OPC 10000-6 §5.2.2.17).</summary>
    public void WriteDataValue(DataValue? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        if (!value.Value.IsNull)
            mask |= 0x01;
        if (value.Status.Code != 0)
            mask |= 0x02;
        if (value.SourceTimestamp is not null)
            mask |= 0x04;
        if (value.ServerTimestamp is not null)
            mask |= 0x08;
        if (value.SourcePicoseconds != 0)
            mask |= 0x10;
        if (value.ServerPicoseconds != 0)
            mask |= 0x20;
        WriteByte(mask);
        if ((mask & 0x01) != 0)
            WriteVariant(value.Value);
        if ((mask & 0x02) != 0)
            WriteStatusCode(value.Status);
        if ((mask & 0x04) != 0)
            WriteDateTime(value.SourceTimestamp!.Value);
        if ((mask & 0x10) != 0)
            WriteUInt16(value.SourcePicoseconds);
        if ((mask & 0x08) != 0)
            WriteDateTime(value.ServerTimestamp!.Value);
        if ((mask & 0x20) != 0)
            WriteUInt16(value.ServerPicoseconds);
    }

    /// <summary>
    /// Mask: bits 0–5 built-in type, 0x80 array, 0x40 dimensions; then the value or Int32 count + elements,
    /// then Int32[] dimensions (OPC 10000-6 §5.2.2.16).
    /// </summary>
    public void WriteVariant(Variant value)
    {
        if (value.IsNull)
        {
            WriteByte(0);
            return;
        }

        var type = value.Type;
        if (!value.IsArray)
        {
            if (type == BuiltInType.Variant)
                throw new UaException(StatusCodes.BadEncodingError, "A Variant cannot contain a scalar Variant (OPC 10000-6 §5.2.2.16)");
            WriteByte((byte)type);
            WriteScalar(type, value.Value!);
            return;
        }

        var array = (Array)value.Value!;
        var dims = value.ArrayDimensions;
        WriteByte((byte)((byte)type | 0x80 | (dims is not null ? 0x40 : 0)));
        WriteInt32(array.Length);
        foreach (var element in array)
            WriteScalar(type, element);
        if (dims is not null)
        {
            WriteInt32(dims.Length);
            foreach (var d in dims)
                WriteInt32(d);
        }
    }

    private void WriteScalar(BuiltInType type, object? v)
    {
        switch (type)
        {
            case BuiltInType.Boolean: WriteBoolean((bool)v!); break;
            case BuiltInType.SByte: WriteSByte((sbyte)v!); break;
            case BuiltInType.Byte: WriteByte((byte)v!); break;
            case BuiltInType.Int16: WriteInt16((short)v!); break;
            case BuiltInType.UInt16: WriteUInt16((ushort)v!); break;
            case BuiltInType.Int32: WriteInt32((int)v!); break;
            case BuiltInType.UInt32: WriteUInt32((uint)v!); break;
            case BuiltInType.Int64: WriteInt64((long)v!); break;
            case BuiltInType.UInt64: WriteUInt64((ulong)v!); break;
            case BuiltInType.Float: WriteFloat((float)v!); break;
            case BuiltInType.Double: WriteDouble((double)v!); break;
            case BuiltInType.String: WriteString((string?)v); break;
            case BuiltInType.DateTime: WriteDateTime((DateTime)v!); break;
            case BuiltInType.Guid: WriteGuid((Guid)v!); break;
            case BuiltInType.ByteString: WriteByteString((byte[]?)v); break;
            case BuiltInType.XmlElement: WriteXmlElement((UaXmlElement)v!); break;
            case BuiltInType.NodeId: WriteNodeId((NodeId?)v); break;
            case BuiltInType.ExpandedNodeId: WriteExpandedNodeId((ExpandedNodeId?)v); break;
            case BuiltInType.StatusCode: WriteStatusCode((StatusCode)v!); break;
            case BuiltInType.QualifiedName: WriteQualifiedName((QualifiedName?)v); break;
            case BuiltInType.LocalizedText: WriteLocalizedText((LocalizedText?)v); break;
            case BuiltInType.ExtensionObject: WriteExtensionObject((ExtensionObject?)v); break;
            case BuiltInType.DataValue: WriteDataValue((DataValue?)v); break;
            case BuiltInType.Variant: WriteVariant((Variant)v!); break;
            case BuiltInType.DiagnosticInfo: WriteDiagnosticInfo((DiagnosticInfo?)v); break;
            default: throw new UaException(StatusCodes.BadEncodingError, $"Built-in type {type} cannot be encoded (OPC 10000-6 §5.1.2)");
        }
    }

    /// <summary>Mask 0x01 symbolic id, 0x02 namespace, 0x04 localized text, 0x08 locale, 0x10 info, 0x20 inner status, 0x40 inner diag (OPC 10000-6 §5.2.2.12).</summary>
    public void WriteDiagnosticInfo(DiagnosticInfo? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        byte mask = 0;
        if (value.SymbolicId >= 0) mask |= 0x01;
        if (value.NamespaceUri >= 0) mask |= 0x02;
        if (value.LocalizedText >= 0) mask |= 0x04;
        if (value.Locale >= 0) mask |= 0x08;
        if (value.AdditionalInfo is not null) mask |= 0x10;
        if (value.InnerStatusCode is not null) mask |= 0x20;
        if (value.InnerDiagnosticInfo is not null) mask |= 0x40;
        WriteByte(mask);
        if ((mask & 0x01) != 0) WriteInt32(value.SymbolicId);
        if ((mask & 0x02) != 0) WriteInt32(value.NamespaceUri);
        if ((mask & 0x08) != 0) WriteInt32(value.Locale);
        if ((mask & 0x04) != 0) WriteInt32(value.LocalizedText);
        if ((mask & 0x10) != 0) WriteString(value.AdditionalInfo);
        if ((mask & 0x20) != 0) WriteStatusCode(value.InnerStatusCode!.Value);
        if ((mask & 0x40) != 0) WriteDiagnosticInfo(value.InnerDiagnosticInfo);
    }

    /// <summary>Int32 count (-1 for null) then each element (OPC 10000-6 §5.2.5).</summary>
    public void WriteArray<T>(IReadOnlyList<T>? values, Action<UaBinaryWriter, T> writeElement)
    {
        ArgumentNullException.ThrowIfNull(writeElement);
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }

        WriteInt32(values.Count);
        for (var i = 0; i < values.Count; i++)
            writeElement(this, values[i]);
    }

    /// <summary>Writes an array of structures (each encoded in place, no type id).</summary>
    public void WriteEncodeableArray<T>(IReadOnlyList<T>? values)
        where T : IUaEncodeable => WriteArray(values, static (w, v) => v.Encode(w));

    /// <summary>Writes the type id NodeId then the body, as a service message on the wire (OPC 10000-6 §7.1.2.4? message body).</summary>
    public void WriteMessage(IUaEncodeable message)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteNodeId(message.BinaryEncodingId);
        message.Encode(this);
    }
}

/// <summary>Conversions between <see cref="DateTime"/> and the OPC UA wire form (OPC 10000-6 §5.2.2.5).</summary>
public static class UaDateTime
{
    private static readonly long Epoch1601Ticks = new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>To 100 ns since 1601-01-01 UTC; earlier values give 0, DateTime.MaxValue gives Int64.MaxValue.</summary>
    public static long ToWire(DateTime value)
    {
        if (value == DateTime.MaxValue)
            return long.MaxValue;
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        var ticks = utc.Ticks - Epoch1601Ticks;
        return ticks <= 0 ? 0 : ticks;
    }

    /// <summary>From the wire; 0 and negatives give DateTime.MinValue, Int64.MaxValue and beyond-range give DateTime.MaxValue.</summary>
    public static DateTime FromWire(long value)
    {
        if (value <= 0)
            return DateTime.MinValue;
        if (value >= DateTime.MaxValue.Ticks - Epoch1601Ticks)
            return DateTime.MaxValue;
        return new DateTime(value + Epoch1601Ticks, DateTimeKind.Utc);
    }
}
