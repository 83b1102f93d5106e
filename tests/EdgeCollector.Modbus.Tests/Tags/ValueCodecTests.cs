namespace EdgeCollector.Modbus.Tests.Tags;

public sealed class ValueCodecTests
{
    [Theory]
    // 0x11223344 as int32 in the four word orders.
    [InlineData(ModbusWordOrder.ABCD, 0x1122, 0x3344)]
    [InlineData(ModbusWordOrder.CDAB, 0x3344, 0x1122)]
    [InlineData(ModbusWordOrder.BADC, 0x2211, 0x4433)]
    [InlineData(ModbusWordOrder.DCBA, 0x4433, 0x2211)]
    public void Word_orders_place_the_bytes_as_named(ModbusWordOrder order, int r0, int r1)
    {
        Assert.Equal(new ushort[] { (ushort)r0, (ushort)r1 }, ModbusValueCodec.Encode(ModbusDataType.UInt32, order, 0x11223344));
        Assert.Equal(0x11223344, ModbusValueCodec.DecodeRaw(ModbusDataType.UInt32, order, [(ushort)r0, (ushort)r1]));
    }

    [Fact]
    public void Float32_big_endian_golden()
    {
        // 1.0f = 0x3F800000; 123.456f = 0x42F6E979.
        Assert.Equal(1.0, ModbusValueCodec.DecodeRaw(ModbusDataType.Float32, ModbusWordOrder.ABCD, [0x3F80, 0x0000]));
        Assert.Equal((double)123.456f, ModbusValueCodec.DecodeRaw(ModbusDataType.Float32, ModbusWordOrder.ABCD, [0x42F6, 0xE979]));
        Assert.Equal((double)123.456f, ModbusValueCodec.DecodeRaw(ModbusDataType.Float32, ModbusWordOrder.CDAB, [0xE979, 0x42F6]));
    }

    [Fact]
    public void Int64_word_orders_golden()
    {
        // 0x0102030405060708
        ushort[] abcd = [0x0102, 0x0304, 0x0506, 0x0708];
        Assert.Equal(abcd, ModbusValueCodec.EncodeInt64(0x0102030405060708));
        Assert.Equal(new ushort[] { 0x0708, 0x0506, 0x0304, 0x0102 }, ModbusValueCodec.EncodeInt64(0x0102030405060708, ModbusWordOrder.CDAB));
        Assert.Equal(new ushort[] { 0x0201, 0x0403, 0x0605, 0x0807 }, ModbusValueCodec.EncodeInt64(0x0102030405060708, ModbusWordOrder.BADC));
        Assert.Equal(new ushort[] { 0x0807, 0x0605, 0x0403, 0x0201 }, ModbusValueCodec.EncodeInt64(0x0102030405060708, ModbusWordOrder.DCBA));
        Assert.Equal(-2.0, ModbusValueCodec.DecodeRaw(ModbusDataType.Int64, ModbusWordOrder.ABCD, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE]));
    }

    public static TheoryData<ModbusDataType, double> Values => new()
    {
        { ModbusDataType.Int16, -32768 },
        { ModbusDataType.Int16, 32767 },
        { ModbusDataType.UInt16, 65535 },
        { ModbusDataType.Int32, int.MinValue },
        { ModbusDataType.UInt32, uint.MaxValue },
        { ModbusDataType.Int64, -9_007_199_254_740_992 },
        { ModbusDataType.UInt64, 9_007_199_254_740_992 },
        { ModbusDataType.Float32, (double)3.14159f },
        { ModbusDataType.Float64, Math.PI },
        { ModbusDataType.Bcd16, 9999 },
        { ModbusDataType.Bcd32, 12_345_678 },
        { ModbusDataType.Bcd48, 999_999_999_999 },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Every_type_round_trips_in_every_word_order(ModbusDataType type, double value)
    {
        foreach (var order in Enum.GetValues<ModbusWordOrder>())
        {
            var registers = ModbusValueCodec.Encode(type, order, value);
            Assert.Equal(ModbusValueCodec.RegisterCount(type), registers.Length);
            Assert.Equal(value, ModbusValueCodec.DecodeRaw(type, order, registers));
        }
    }

    [Fact]
    public void Six_byte_bcd_with_four_decimals_keeps_every_unit()
    {
        // Standard total 12,345,678.9012 Nm3 as 6-byte BCD 12 34 56 78 90 12 — beyond float32's 2^24.
        ushort[] registers = [0x1234, 0x5678, 0x9012];
        var tag = new ModbusTag("gas", 1, ModbusArea.Holding, 16, ModbusDataType.Bcd48, Scale: 0.0001);
        Assert.Equal(12_345_678.9012, ModbusValueCodec.Decode(tag, registers), 6);
        Assert.Equal(registers, ModbusValueCodec.Encode(ModbusDataType.Bcd48, ModbusWordOrder.ABCD, 123_456_789_012));
    }

    [Fact]
    public void Invalid_bcd_nibble_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => ModbusValueCodec.DecodeRaw(ModbusDataType.Bcd16, ModbusWordOrder.ABCD, [0x12A4]));
    }

    [Fact]
    public void Scale_and_offset_apply_after_decoding()
    {
        var acrel = new ModbusTag("e", 1, ModbusArea.Holding, 0, ModbusDataType.UInt32, Scale: 0.01);
        Assert.Equal(1234.56, ModbusValueCodec.Decode(acrel, [0x0001, 0xE240]), 9); // 123456 × 0.01
        var temperature = new ModbusTag("t", 1, ModbusArea.Holding, 0, ModbusDataType.Int16, Scale: 0.1, Offset: -40);
        Assert.Equal(-15.0, ModbusValueCodec.Decode(temperature, [250]), 9);
    }

    [Fact]
    public void Bit_of_a_register()
    {
        var tag = new ModbusTag("alarm", 1, ModbusArea.Holding, 0, ModbusDataType.Bool) { BitIndex = 3 };
        Assert.Equal(1.0, ModbusValueCodec.Decode(tag, [0b1000]));
        Assert.Equal(0.0, ModbusValueCodec.Decode(tag, [0b0111]));
    }

    [Fact]
    public void Float32_totaliser_carries_the_lossy_warning()
    {
        var lossy = new ModbusTag("kwh", 1, ModbusArea.Holding, 2699, ModbusDataType.Float32) { IsCounter = true };
        Assert.Contains("2^24", lossy.MetadataWarning, StringComparison.Ordinal);
        Assert.Null((lossy with { DataType = ModbusDataType.Int64 }).MetadataWarning);
        Assert.Null((lossy with { IsCounter = false }).MetadataWarning);

        // Above 2^24 a float32 cannot tell consecutive integers apart.
        Assert.Equal(16_777_216.0, ModbusValueCodec.DecodeRaw(ModbusDataType.Float32, ModbusWordOrder.ABCD, ModbusValueCodec.Encode(ModbusDataType.Float32, ModbusWordOrder.ABCD, 16_777_217)));
    }

    [Fact]
    public void Values_that_do_not_fit_are_refused()
    {
        Assert.ThrowsAny<ArithmeticException>(() => ModbusValueCodec.Encode(ModbusDataType.Int16, ModbusWordOrder.ABCD, 40000));
        Assert.ThrowsAny<ArgumentException>(() => ModbusValueCodec.Encode(ModbusDataType.Bcd16, ModbusWordOrder.ABCD, 10000));
        Assert.ThrowsAny<ArgumentException>(() => ModbusValueCodec.Encode(ModbusDataType.Bcd32, ModbusWordOrder.ABCD, -1));
    }
}
