using System.Buffers;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Tests.Encoding;

public sealed class RoundTripTests
{
    private static byte[] Encode(Action<UaBinaryWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new UaBinaryWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static Variant RoundTrip(Variant value)
    {
        var bytes = Encode(w => w.WriteVariant(value));
        var reader = new UaBinaryReader(bytes);
        var decoded = reader.ReadVariant();
        Assert.Equal(0, reader.Remaining);
        return decoded;
    }

    public static TheoryData<string, Variant> Scalars() => new()
    {
        { "Boolean", new Variant(true) },
        { "SByte", new Variant((sbyte)-5) },
        { "Byte", new Variant(BuiltInType.Byte, (byte)200) },
        { "Int16", new Variant((short)-30000) },
        { "UInt16", new Variant((ushort)60000) },
        { "Int32", new Variant(int.MinValue) },
        { "UInt32", new Variant(uint.MaxValue) },
        { "Int64", new Variant(long.MinValue) },
        { "UInt64", new Variant(ulong.MaxValue) },
        { "Float", new Variant(3.25f) },
        { "Double", new Variant(-1.5e300) },
        { "Double NaN", new Variant(double.NaN) },
        { "String", new Variant("Gas Nm³ – 燃气") },
        { "String empty", new Variant("") },
        { "DateTime", new Variant(new DateTime(2026, 11, 21, 8, 0, 0, 123, DateTimeKind.Utc)) },
        { "DateTime min", new Variant(DateTime.MinValue) },
        { "DateTime max", new Variant(DateTime.MaxValue) },
        { "Guid", new Variant(Guid.Parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63")) },
        { "ByteString", new Variant(new byte[] { 1, 2, 3, 0, 255 }) },
        { "XmlElement", new Variant(new UaXmlElement("<a b=\"1\"/>")) },
        { "NodeId numeric", new Variant(new NodeId(3, 70000u)) },
        { "NodeId string", new Variant(new NodeId(3, "\"DB_F1\".\"GasTotal\"")) },
        { "ExpandedNodeId", new Variant(new ExpandedNodeId(new NodeId(0, "x"), "urn:plant", 2)) },
        { "StatusCode", new Variant(StatusCodes.UncertainLastUsableValue) },
        { "QualifiedName", new Variant(new QualifiedName(3, "GasTotal")) },
        { "LocalizedText", new Variant(new LocalizedText("de-DE", "Gasmenge")) },
        { "LocalizedText text only", new Variant(new LocalizedText(null, "x")) },
        { "ExtensionObject known", new Variant(new ExtensionObject(new DataChangeFilter { Trigger = DataChangeTrigger.StatusValue, DeadbandType = 1, DeadbandValue = 0.5 })) },
        { "ExtensionObject raw", new Variant(new ExtensionObject(new NodeId(5, 4242u), 1, [9, 8, 7])) },
        { "DataValue", new Variant(new DataValue(new Variant(1.5), StatusCodes.UncertainSubNormal, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc)) { SourcePicoseconds = 7, ServerPicoseconds = 9 }) },
        { "DiagnosticInfo", new Variant(new DiagnosticInfo { SymbolicId = 1, NamespaceUri = 2, Locale = 3, LocalizedText = 4, AdditionalInfo = "why", InnerStatusCode = StatusCodes.BadTimeout, InnerDiagnosticInfo = new DiagnosticInfo { AdditionalInfo = "inner" } }) },
    };

    [Theory]
    [MemberData(nameof(Scalars))]
    public void Scalar_round_trips(string name, Variant value)
    {
        var decoded = RoundTrip(value);
        Assert.True(value.Equals(decoded), $"{name}: {value} != {decoded}");
        Assert.False(decoded.IsArray);
    }

    [Theory]
    [MemberData(nameof(Scalars))]
    public void One_dimensional_array_round_trips(string name, Variant scalar)
    {
        // Build a 3-element array of the scalar's type.
        var element = scalar.Value!;
        var array = Array.CreateInstance(element.GetType(), 3);
        for (var i = 0; i < 3; i++)
            array.SetValue(element, i);
        var value = new Variant(scalar.Type, array);
        var decoded = RoundTrip(value);
        Assert.True(decoded.IsArray, name);
        Assert.True(value.Equals(decoded), $"{name}: array differs");
    }

    [Fact]
    public void Byte_array_is_distinct_from_ByteString()
    {
        var bytes = new Variant(BuiltInType.Byte, new byte[] { 1, 2 });
        var encoded = Encode(w => w.WriteVariant(bytes));
        Assert.Equal(new byte[] { 0x83, 2, 0, 0, 0, 1, 2 }, encoded);
        var decoded = RoundTrip(bytes);
        Assert.Equal(BuiltInType.Byte, decoded.Type);
        Assert.True(decoded.IsArray);
    }

    [Fact]
    public void Array_of_variants_and_null_array_round_trip()
    {
        var value = new Variant(BuiltInType.Variant, new[] { new Variant(1), new Variant("two"), Variant.Null, new Variant(BuiltInType.Variant, new[] { new Variant(3.0) }) });
        Assert.True(value.Equals(RoundTrip(value)));
        var nullArray = Encode(w => { w.WriteByte(0x86); w.WriteInt32(-1); });
        var reader = new UaBinaryReader(nullArray);
        var decoded = reader.ReadVariant();
        Assert.Equal(BuiltInType.Int32, decoded.Type);
        Assert.Empty((int[])decoded.Value!);
    }

    [Fact]
    public void Matrix_round_trips_with_dimensions()
    {
        var value = new Variant(BuiltInType.Double, new[] { 1.0, 2, 3, 4, 5, 6 }, [2, 3]);
        var bytes = Encode(w => w.WriteVariant(value));
        Assert.Equal(0xCB, bytes[0]);
        var decoded = RoundTrip(value);
        Assert.Equal([2, 3], decoded.ArrayDimensions!);
        Assert.True(value.Equals(decoded));
    }

    [Fact]
    public void Matrix_whose_dimensions_do_not_match_is_refused()
    {
        var bytes = Encode(w =>
        {
            w.WriteByte(0xC6);
            w.WriteInt32(2);
            w.WriteInt32(1);
            w.WriteInt32(2);
            w.WriteInt32(2);
            w.WriteInt32(2);
            w.WriteInt32(2);
        });
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadVariant());
        Assert.Contains("OPC 10000-6 §5.2.2.16", ex.Message);
        Assert.Equal(StatusCodes.BadDecodingError, ex.Status);
    }

    [Theory]
    [InlineData("i=85", "00-55")]
    [InlineData("ns=2;i=1001", "01-02-E9-03")]
    [InlineData("i=1001", "01-00-E9-03")]
    [InlineData("ns=300;i=5", "02-2C-01-05-00-00-00")]
    [InlineData("ns=2;i=70000", "02-02-00-70-11-01-00")]
    [InlineData("ns=3;s=F1", "03-03-00-02-00-00-00-46-31")]
    [InlineData("ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63", "04-01-00-91-2B-96-72-75-FA-E6-4A-8D-28-B4-04-DC-7D-AF-63")]
    [InlineData("ns=4;b=AQID", "05-04-00-03-00-00-00-01-02-03")]
    public void NodeId_uses_the_smallest_encoding(string text, string hex)
    {
        var id = NodeId.Parse(text);
        var bytes = Encode(w => w.WriteNodeId(id));
        Assert.Equal(hex, BitConverter.ToString(bytes));
        var reader = new UaBinaryReader(bytes);
        Assert.Equal(id, reader.ReadNodeId());
        Assert.Equal(text, id.ToString());
    }

    [Fact]
    public void ExpandedNodeId_with_uri_and_server_index()
    {
        var id = new ExpandedNodeId(new NodeId(0, 5u), "urn:a", 7);
        var bytes = Encode(w => w.WriteExpandedNodeId(id));
        Assert.Equal("C0-05-05-00-00-00-75-72-6E-3A-61-07-00-00-00", BitConverter.ToString(bytes));
        var reader = new UaBinaryReader(bytes);
        Assert.Equal(id, reader.ReadExpandedNodeId());
        Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadNodeId());
    }

    [Fact]
    public void DateTime_edges_clamp_as_the_spec_says()
    {
        Assert.Equal(0, UaDateTime.ToWire(new DateTime(1600, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.Equal(long.MaxValue, UaDateTime.ToWire(DateTime.MaxValue));
        Assert.Equal(DateTime.MinValue, UaDateTime.FromWire(-5));
        Assert.Equal(DateTime.MaxValue, UaDateTime.FromWire(long.MaxValue));
        Assert.Equal(new DateTime(1601, 1, 1, 0, 0, 0, 1, DateTimeKind.Utc), UaDateTime.FromWire(10_000));
    }

    [Fact]
    public void DataValue_mask_orders_fields_as_the_spec_says()
    {
        var dv = new DataValue(Variant.Null, default, new DateTime(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(1), null) { SourcePicoseconds = 2 };
        var bytes = Encode(w => w.WriteDataValue(dv));
        Assert.Equal("14-01-00-00-00-00-00-00-00-02-00", BitConverter.ToString(bytes));
    }

    [Fact]
    public void Null_and_empty_strings_are_distinct()
    {
        Assert.Equal("FF-FF-FF-FF", BitConverter.ToString(Encode(w => w.WriteString(null))));
        Assert.Equal("00-00-00-00", BitConverter.ToString(Encode(w => w.WriteString(""))));
        Assert.Null(new UaBinaryReader(Encode(w => w.WriteString(null))).ReadString());
        Assert.Equal("", new UaBinaryReader(Encode(w => w.WriteString(""))).ReadString());
    }

    [Fact]
    public void Service_message_round_trips_through_the_registry()
    {
        var response = new ReadResponse
        {
            ResponseHeader = new ResponseHeader { RequestHandle = 7, Timestamp = new DateTime(2026, 11, 21, 0, 0, 0, DateTimeKind.Utc), StringTable = ["a"] },
            Results = [new DataValue(new Variant(1.25), default, DateTime.UnixEpoch), new DataValue { Status = StatusCodes.BadNodeIdUnknown }],
        };
        var bytes = Encode(w => w.WriteMessage(response));
        var reader = new UaBinaryReader(bytes);
        var decoded = Assert.IsType<ReadResponse>(reader.ReadMessage());
        Assert.Equal(7u, decoded.ResponseHeader.RequestHandle);
        Assert.Equal(1.25, decoded.Results![0].Value.Value);
        Assert.Equal(StatusCodes.BadNodeIdUnknown, decoded.Results[1].Status);
        Assert.Equal(bytes, Encode(w => w.WriteMessage(decoded)));
    }

    [Fact]
    public void Unknown_message_type_is_a_decoding_error()
    {
        var bytes = Encode(w => w.WriteNodeId(new NodeId(0, 99999u)));
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadMessage());
        Assert.Equal(StatusCodes.BadDataTypeIdUnknown, ex.Status);
    }

    [Fact]
    public void Status_codes_have_names()
    {
        Assert.Equal("BadNodeIdUnknown", StatusCodes.BadNodeIdUnknown.Name);
        Assert.Equal("Good", new StatusCode(0).Name);
        Assert.Equal("BadDecodingError (0x80070000)", StatusCodes.BadDecodingError.ToString());
        Assert.Equal("UncertainLastUsableValue", new StatusCode(0x40900400).Name);
        Assert.Equal("0x81230000", new StatusCode(0x81230000).Name);
        Assert.True(StatusCodes.TryParse("BadTimeout", out var timeout) && timeout == StatusCodes.BadTimeout);
        Assert.True(StatusCodes.GoodClamped.IsGood);
        Assert.True(StatusCodes.UncertainInitialValue.IsUncertain);
        Assert.True(StatusCodes.BadTimeout.IsBad);
    }
}
