using System.Buffers;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Tests.Encoding;

/// <summary>
/// The allocation-free decoding of DataChangeNotification (<see cref="DataChangeNotification.Values"/>,
/// <see cref="UaBinaryReader.ReadUaValue"/>) must accept and refuse exactly what the general DataValue decoding does,
/// and give the same values.
/// </summary>
public sealed class DataChangeDecodingTests
{
    private static readonly DateTime Ts = new(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc);

    private static byte[] Encode(Action<UaBinaryWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new UaBinaryWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    public static TheoryData<string, DataValue> Values() => new()
    {
        { "Boolean", new DataValue(new Variant(true), default, Ts) },
        { "SByte", new DataValue(new Variant((sbyte)-5)) },
        { "Byte", new DataValue(new Variant((byte)200), StatusCodes.UncertainSubNormal) },
        { "Int16", new DataValue(new Variant((short)-300), default, Ts, Ts.AddSeconds(1)) },
        { "UInt16", new DataValue(new Variant((ushort)60000)) },
        { "Int32", new DataValue(new Variant(-70000), default, Ts) },
        { "UInt32", new DataValue(new Variant(4_000_000_000u)) },
        { "Int64", new DataValue(new Variant(long.MinValue + 1)) },
        { "UInt64", new DataValue(new Variant(ulong.MaxValue)) },
        { "Float", new DataValue(new Variant(-1.25f)) },
        { "Double", new DataValue(new Variant(1234.5678), default, Ts, Ts) { SourcePicoseconds = 7, ServerPicoseconds = 9 } },
        { "Double NaN", new DataValue(new Variant(double.NaN)) },
        { "DateTime", new DataValue(new Variant(Ts.AddTicks(12345))) },
        { "DateTime min", new DataValue(new Variant(DateTime.MinValue)) },
        { "StatusCode", new DataValue(new Variant(StatusCodes.BadTimeout)) },
        { "String", new DataValue(new Variant("F1 melting"), default, Ts) },
        { "Guid", new DataValue(new Variant(new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"))) },
        { "ByteString", new DataValue(new Variant(new byte[] { 1, 2, 3 })) },
        { "NodeId", new DataValue(new Variant(new NodeId(3, "\"DB_F1\".\"State\""))) },
        { "LocalizedText", new DataValue(new Variant(new LocalizedText("de", "Schmelzen"))) },
        { "Double array", new DataValue(new Variant(new[] { 1.0, 2.0, 3.0 })) },
        { "Int32 matrix", new DataValue(new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4, 5, 6 }, [2, 3])) },
        { "no value, bad status", new DataValue(Variant.Null, StatusCodes.BadNodeIdUnknown) },
        { "empty", new DataValue() },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Struct_decoding_gives_the_same_DataValue_as_the_general_decoding(string name, DataValue value)
    {
        var bytes = Encode(w => w.WriteDataValue(value));
        var general = new UaBinaryReader(bytes).ReadDataValue();
        var reader = new UaBinaryReader(bytes);
        var fast = reader.ReadUaValue();
        Assert.Equal(bytes.Length, reader.Position);
        Assert.True(general == fast.ToDataValue(), $"{name}: {general} vs {fast.ToDataValue()}");
        Assert.Equal(general.Value.Type, fast.Type);
        Assert.Equal(general.Value.IsArray, fast.IsArray);
        Assert.Equal(general.Value.AsDouble(), fast.AsDouble());
        Assert.Equal(general.Status, fast.Status);
        Assert.Equal(general.SourceTimestamp, fast.SourceTimestamp);
        Assert.Equal(general.ServerTimestamp, fast.ServerTimestamp);

        // And back: UaValue.From keeps everything the encoding carries.
        Assert.Equal(bytes, Encode(w => w.WriteDataValue(UaValue.From(general).ToDataValue())));
    }

    [Fact]
    public void Numbers_are_read_without_boxing()
    {
        var bytes = Encode(w => w.WriteDataValue(new DataValue(new Variant(21.5), default, Ts, Ts)));
        new UaBinaryReader(bytes).ReadUaValue();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var value = new UaBinaryReader(bytes).ReadUaValue();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(value.TryGetDouble(out var d));
        Assert.Equal(21.5, d);
        Assert.Equal(BuiltInType.Double, value.Type);
        Assert.Equal(Ts, value.SourceTimestamp);
        Assert.False(new UaBinaryReader(Encode(w => w.WriteDataValue(new DataValue(new Variant("x"))))).ReadUaValue().TryGetDouble(out _));
    }

    private static byte[] Notification(int items) => Encode(w => w.WriteExtensionObject(new DataChangeNotification
    {
        MonitoredItems = Enumerable.Range(0, items)
            .Select(i => new MonitoredItemNotification { ClientHandle = (uint)i + 1, Value = new DataValue(new Variant(i + 0.5), default, Ts, Ts) })
            .ToArray(),
    }));

    [Fact]
    public void A_notification_of_1000_values_decodes_into_pooled_structs()
    {
        var bytes = Notification(1000);
        DataChangeNotification Decode() => new UaBinaryReader(bytes).ReadExtensionObject<DataChangeNotification>()!;
        Decode().ReleaseValues();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var change = Decode();
        var sum = 0.0;
        var wrong = 0;
        foreach (ref readonly var n in change.Values)
        {
            if (!n.Value.TryGetDouble(out var d) || d != n.ClientHandle - 0.5)
                wrong++;
            sum += d;
        }

        var count = change.Values.Length;
        change.ReleaseValues();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, count);
        Assert.Equal(0, wrong);
        Assert.Equal(Enumerable.Range(0, 1000).Sum(i => i + 0.5), sum);
        // The ExtensionObject, its type id and the notification object; nothing per value (that would be ≥ 24 kB).
        Assert.True(allocated < 2048, $"allocated {allocated} bytes for 1000 values");
        Assert.True(change.Values.IsEmpty);
    }

    [Fact]
    public void MonitoredItems_are_built_from_the_structs_and_encode_the_same_bytes()
    {
        var bytes = Notification(3);
        var change = new UaBinaryReader(bytes).ReadExtensionObject<DataChangeNotification>()!;
        Assert.Equal([1u, 2u, 3u], change.MonitoredItems!.Select(m => m.ClientHandle).ToArray());
        Assert.Equal(2.5, change.MonitoredItems![2].Value.Value.Value);
        Assert.Equal(bytes, Encode(w => w.WriteExtensionObject(change)));

        // A notification built from classes gives the structs too.
        var built = new DataChangeNotification { MonitoredItems = [new MonitoredItemNotification { ClientHandle = 9, Value = new DataValue(new Variant(4)) }] };
        Assert.Equal(9u, built.Values[0].ClientHandle);
        Assert.Equal(4.0, built.Values[0].Value.AsDouble());

        var nullArray = new UaBinaryReader(Encode(w => w.WriteExtensionObject(new DataChangeNotification()))).ReadExtensionObject<DataChangeNotification>()!;
        Assert.Null(nullArray.MonitoredItems);
        Assert.True(nullArray.Values.IsEmpty);
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        var ok = Encode(w => w.WriteDataValue(new DataValue(new Variant(1.5), default, Ts)));
        return new()
        {
            { "reserved DataValue mask bits", Encode(w => { w.WriteByte(0x41); w.WriteByte(11); w.WriteDouble(1); }) },
            { "Variant type id 31", Encode(w => { w.WriteByte(0x01); w.WriteByte(31); w.WriteDouble(1); }) },
            { "truncated Double", ok[..5] },
            { "truncated timestamp", ok[..^3] },
            { "dimensions without array", Encode(w => { w.WriteByte(0x01); w.WriteByte(0x40 | 11); w.WriteDouble(1); }) },
            { "scalar Variant in Variant", Encode(w => { w.WriteByte(0x01); w.WriteByte(24); w.WriteByte(0); }) },
            { "array longer than the data", Encode(w => { w.WriteByte(0x01); w.WriteByte(0x80 | 11); w.WriteInt32(1000); w.WriteDouble(1); }) },
            { "nothing", [] },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_values_are_refused_as_the_general_decoding_refuses_them(string name, byte[] bytes)
    {
        var general = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadDataValue());
        var fast = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bytes).ReadUaValue());
        Assert.True(general.Status == fast.Status, $"{name}: {general.Message} / {fast.Message}");
    }

    [Fact]
    public void Malformed_notification_is_refused_with_a_decoding_error()
    {
        // A PublishResponse whose only value has a DataValue mask with reserved bits (OPC 10000-6 §5.2.2.17).
        var good = Encode(w => w.WriteMessage(new PublishResponse
        {
            SubscriptionId = 1,
            NotificationMessage = new NotificationMessage
            {
                SequenceNumber = 5,
                PublishTime = Ts,
                NotificationData = [new ExtensionObject(new DataChangeNotification
                {
                    MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue(new Variant(2.0)) }],
                })],
            },
        }));
        // From the end: Results and DiagnosticInfos of the response and the notification's DiagnosticInfos (null
        // arrays, 4 bytes each), the Double (8), the Variant mask (1); before them the DataValue mask.
        var mask = good.Length - 12 - 8 - 1 - 1;
        Assert.Equal(0x01, good[mask]);
        Assert.Equal(11, good[mask + 1]);
        var bad = good.ToArray();
        bad[mask] = 0x81;
        var ex = Assert.Throws<UaDecodingException>(() => new UaBinaryReader(bad).ReadMessage());
        Assert.Contains("reserved bits", ex.Message);
        Assert.Equal(2.0, ((DataChangeNotification)((PublishResponse)new UaBinaryReader(good).ReadMessage()).NotificationMessage.NotificationData![0]!.Body!).Values[0].Value.AsDouble());
    }

    [Fact]
    public void Mutated_notifications_decode_alike_on_both_paths()
    {
        // Differential fuzzing: every mutation either fails on both paths or gives equal values on both.
        var seed = Encode(w => w.WriteArray(
            new[]
            {
                new DataValue(new Variant(1.5), default, Ts, Ts),
                new DataValue(new Variant(-7), StatusCodes.UncertainSubNormal, Ts),
                new DataValue(new Variant("text")),
                new DataValue(new Variant(new[] { 1f, 2f })),
                new DataValue(new Variant(true), default, null, Ts) { ServerPicoseconds = 3 },
                new DataValue(Variant.Null, StatusCodes.BadNodeIdUnknown),
            },
            static (w, v) => { w.WriteUInt32(1); w.WriteDataValue(v); }));
        var random = new Random(5);
        var compared = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = seed.ToArray();
            for (var m = random.Next(1, 4); m > 0; m--)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (random.Next(8) == 0)
                bytes = bytes[..random.Next(bytes.Length)];
            DataValue[]? general = null, fast = null;
            Exception? generalError = null, fastError = null;
            try
            {
                general = new UaBinaryReader(bytes).ReadArray(static (ref UaBinaryReader r) => { r.ReadUInt32(); return r.ReadDataValue(); });
            }
            catch (UaDecodingException ex)
            {
                generalError = ex;
            }

            try
            {
                fast = new UaBinaryReader(bytes).ReadArray(static (ref UaBinaryReader r) => { r.ReadUInt32(); return r.ReadUaValue(); })?.Select(v => v.ToDataValue()).ToArray();
            }
            catch (UaDecodingException ex)
            {
                fastError = ex;
            }

            Assert.True((generalError is null) == (fastError is null), $"mutation {i}: {generalError?.Message} / {fastError?.Message}");
            if (general is not null)
            {
                Assert.Equal(general.Length, fast!.Length);
                for (var k = 0; k < general.Length; k++)
                    Assert.True(general[k] == fast[k], $"mutation {i}, value {k}: {general[k]} vs {fast[k]}");
                compared++;
            }
        }

        Assert.True(compared > 1000, $"only {compared} mutations decoded");
    }
}
