using static EdgeCollector.Modbus.Tests.Codec.Hex;

namespace EdgeCollector.Modbus.Tests.Codec;

/// <summary>Examples printed in Modbus Application Protocol v1.1b3 §6.1–§6.12 and §7.</summary>
public sealed class PduGoldenTests
{
    public static TheoryData<string, string> Requests => new()
    {
        { "01 00 13 00 13", "ReadCoils @19 x19" },                  // §6.1: coils 20-38
        { "02 00 C4 00 16", "ReadDiscreteInputs @196 x22" },        // §6.2: inputs 197-218
        { "03 00 6B 00 03", "ReadHoldingRegisters @107 x3" },       // §6.3: registers 108-110
        { "04 00 08 00 01", "ReadInputRegisters @8 x1" },           // §6.4: register 9
        { "05 00 AC FF 00", "WriteSingleCoil @172 x1" },            // §6.5: coil 173 ON
        { "06 00 01 00 03", "WriteSingleRegister @1 x1" },          // §6.6: register 2 = 3
        { "0F 00 13 00 0A 02 CD 01", "WriteMultipleCoils @19 x10" }, // §6.11: coils 20-29
        { "10 00 01 00 02 04 00 0A 01 02", "WriteMultipleRegisters @1 x2" }, // §6.12
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Spec_request_examples_decode_and_encode_to_the_same_bytes(string hex, string summary)
    {
        var request = ModbusPduCodec.ParseRequest(Bytes(hex));
        Assert.Equal(summary, request.ToString());
        var buffer = new byte[ModbusPduCodec.MaxPduLength];
        int n = ModbusPduCodec.WriteRequest(request, buffer);
        Assert.Equal(ModbusPduCodec.GetRequestLength(request), n);
        Assert.Equal(hex, Of(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void Fc03_spec_example_values()
    {
        // §6.3: register 108 = 0x022B (555), 109 = 0, 110 = 0x64 (100).
        Assert.Equal(Bytes("03 00 6B 00 03"), Encode(ModbusRequest.ReadHoldingRegisters(0x6B, 3)));
        var response = ModbusPduCodec.ParseResponse(Bytes("03 06 02 2B 00 00 00 64"));
        Assert.Equal(new ushort[] { 555, 0, 100 }, response.Registers);
        Assert.Equal("03 06 02 2B 00 00 00 64", Of(Encode(response)));
    }

    [Fact]
    public void Fc01_spec_example_bits_are_lsb_first()
    {
        // §6.1: CD = coils 27..20 = 1100 1101, so coil 20 (bit 0) is ON.
        var response = ModbusPduCodec.ParseResponse(Bytes("01 03 CD 6B 05"));
        Assert.Equal(24, response.Bits!.Length);
        Assert.True(response.Bits[0]);
        Assert.False(response.Bits[1]);
        Assert.True(response.Bits[2]);
        Assert.True(response.Bits[7]);
        Assert.True(response.Bits[16]);  // 05 -> coil 36
        Assert.False(response.Bits[17]);
        Assert.True(response.Bits[18]);  // coil 38
        Assert.Equal("01 03 CD 6B 05", Of(Encode(response)));
    }

    [Theory]
    [InlineData("02 03 AC DB 35")]          // §6.2
    [InlineData("04 02 00 0A")]             // §6.4
    [InlineData("05 00 AC FF 00")]          // §6.5 echo
    [InlineData("06 00 01 00 03")]          // §6.6 echo
    [InlineData("0F 00 13 00 0A")]          // §6.11
    [InlineData("10 00 01 00 02")]          // §6.12
    [InlineData("81 02")]                   // §7 example: illegal data address on FC01
    [InlineData("83 04")]
    public void Spec_response_examples_round_trip(string hex)
    {
        var response = ModbusPduCodec.ParseResponse(Bytes(hex));
        Assert.Equal(hex, Of(Encode(response)));
    }

    [Fact]
    public void Exception_response_carries_function_and_code()
    {
        var response = ModbusPduCodec.ParseResponse(Bytes("81 02"));
        Assert.True(response.IsException);
        Assert.Equal(ModbusFunctionCode.ReadCoils, response.Function);
        Assert.Equal(ModbusExceptionCode.IllegalDataAddress, response.ExceptionCode);
    }

    [Theory]
    [InlineData("03 00 00 00 00", ModbusExceptionCode.IllegalDataValue, "§6.3")]   // quantity 0
    [InlineData("03 00 00 00 7E", ModbusExceptionCode.IllegalDataValue, "§6.3")]   // 126 registers
    [InlineData("01 00 00 07 D1", ModbusExceptionCode.IllegalDataValue, "§6.1")]   // 2001 coils
    [InlineData("05 00 01 12 34", ModbusExceptionCode.IllegalDataValue, "§6.5")]   // coil value
    [InlineData("10 00 01 00 02 03 00 0A 01", ModbusExceptionCode.IllegalDataValue, "§6.12")] // byte count
    [InlineData("0F 00 13 00 0A 01 CD", ModbusExceptionCode.IllegalDataValue, "§6.11")]
    [InlineData("2B 0E 01 00", ModbusExceptionCode.IllegalFunction, "§6")]       // FC43 unsupported
    [InlineData("03 00 00 00 01 00", ModbusExceptionCode.IllegalDataValue, "§6.3")] // trailing byte
    public void Malformed_requests_name_the_clause_and_the_answer(string hex, ModbusExceptionCode code, string clause)
    {
        var ex = Assert.Throws<ModbusProtocolException>(() => ModbusPduCodec.ParseRequest(Bytes(hex)));
        Assert.Equal(code, ex.ExceptionCode);
        Assert.Contains("Modbus Application Protocol v1.1b3 " + clause, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("03 05 00 01 00 02 00")] // odd byte count
    [InlineData("03 00")]                // zero byte count
    [InlineData("07 00")]                // unsupported function
    [InlineData("03 04 00 01")]          // shorter than its byte count
    public void Malformed_responses_throw_protocol_exceptions(string hex)
    {
        Assert.Throws<ModbusProtocolException>(() => ModbusPduCodec.ParseResponse(Bytes(hex)));
    }

    [Fact]
    public void Writing_requests_the_spec_forbids_is_refused()
    {
        var buffer = new byte[300];
        Assert.ThrowsAny<ArgumentException>(() => ModbusPduCodec.WriteRequest(ModbusRequest.ReadHoldingRegisters(0, 126), buffer));
        Assert.ThrowsAny<ArgumentException>(() => ModbusPduCodec.WriteRequest(ModbusRequest.ReadCoils(0, 0), buffer));
        Assert.ThrowsAny<ArgumentException>(() => ModbusPduCodec.WriteRequest(ModbusRequest.WriteMultipleRegisters(0, new ushort[124]), buffer));
    }

    [Fact]
    public void Multiple_writes_round_trip()
    {
        var coils = Enumerable.Range(0, 1968).Select(i => i % 3 == 0).ToArray();
        var back = ModbusPduCodec.ParseRequest(Encode(ModbusRequest.WriteMultipleCoils(7, coils)));
        Assert.Equal(coils, back.Coils);
        var regs = Enumerable.Range(0, 123).Select(i => (ushort)(i * 517)).ToArray();
        back = ModbusPduCodec.ParseRequest(Encode(ModbusRequest.WriteMultipleRegisters(9, regs)));
        Assert.Equal(regs, back.Registers);
        Assert.Equal(9, back.Address);
    }

    private static byte[] Encode(ModbusRequest request)
    {
        var buffer = new byte[ModbusPduCodec.MaxPduLength];
        return buffer[..ModbusPduCodec.WriteRequest(request, buffer)];
    }

    private static byte[] Encode(ModbusResponse response)
    {
        var buffer = new byte[ModbusPduCodec.MaxPduLength];
        return buffer[..ModbusPduCodec.WriteResponse(response, buffer)];
    }
}
