namespace EdgeCollector.Modbus;

/// <summary>Public function codes this implementation speaks (Modbus Application Protocol v1.1b3 §5.1). Values are the wire bytes.</summary>
public enum ModbusFunctionCode : byte
{
    /// <summary>§6.1 Read Coils.</summary>
    ReadCoils = 0x01,
    /// <summary>§6.2 Read Discrete Inputs.</summary>
    ReadDiscreteInputs = 0x02,
    /// <summary>§6.3 Read Holding Registers.</summary>
    ReadHoldingRegisters = 0x03,
    /// <summary>§6.4 Read Input Registers.</summary>
    ReadInputRegisters = 0x04,
    /// <summary>§6.5 Write Single Coil.</summary>
    WriteSingleCoil = 0x05,
    /// <summary>§6.6 Write Single Register.</summary>
    WriteSingleRegister = 0x06,
    /// <summary>§6.11 Write Multiple Coils.</summary>
    WriteMultipleCoils = 0x0F,
    /// <summary>§6.12 Write Multiple Registers.</summary>
    WriteMultipleRegisters = 0x10,
}

/// <summary>Exception codes (Modbus Application Protocol v1.1b3 §7). Values are the wire bytes.</summary>
public enum ModbusExceptionCode : byte
{
    /// <summary>01: function not supported by the server.</summary>
    IllegalFunction = 0x01,
    /// <summary>02: address (or address + quantity) outside the server's map.</summary>
    IllegalDataAddress = 0x02,
    /// <summary>03: a value in the request is not allowed (e.g. quantity out of range).</summary>
    IllegalDataValue = 0x03,
    /// <summary>04: unrecoverable error in the server.</summary>
    ServerDeviceFailure = 0x04,
    /// <summary>05: accepted, long processing.</summary>
    Acknowledge = 0x05,
    /// <summary>06: busy, retry later.</summary>
    ServerDeviceBusy = 0x06,
    /// <summary>08: memory parity error (file records).</summary>
    MemoryParityError = 0x08,
    /// <summary>0A: gateway has no path to the target.</summary>
    GatewayPathUnavailable = 0x0A,
    /// <summary>0B: gateway's target did not respond.</summary>
    GatewayTargetFailedToRespond = 0x0B,
}

/// <summary>The four Modbus data areas (Modbus Application Protocol v1.1b3 §4.3).</summary>
public enum ModbusArea
{
    /// <summary>Read/write 16-bit registers (FC03/06/16).</summary>
    Holding,
    /// <summary>Read-only 16-bit registers (FC04).</summary>
    Input,
    /// <summary>Read/write bits (FC01/05/15).</summary>
    Coil,
    /// <summary>Read-only bits (FC02).</summary>
    Discrete,
}
