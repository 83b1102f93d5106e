namespace EdgeCollector.Modbus;

/// <summary>
/// A response PDU: either an exception (<see cref="ExceptionCode"/> set) or the normal reply —
/// register values for FC03/04, bits for FC01/02 (a multiple of 8: the byte count does not carry
/// the requested quantity, §6.1), or the echoed address and value/quantity for writes.
/// </summary>
public sealed record ModbusResponse
{
    /// <summary>Creates a response; prefer the static factories.</summary>
    public ModbusResponse(ModbusFunctionCode function, ModbusExceptionCode? exceptionCode = null, ushort address = 0, ushort quantity = 0, ushort[]? registers = null, bool[]? bits = null)
    {
        Function = function;
        ExceptionCode = exceptionCode;
        Address = address;
        Quantity = quantity;
        Registers = registers;
        Bits = bits;
    }

    /// <summary>Function code without the exception bit.</summary>
    public ModbusFunctionCode Function { get; }

    /// <summary>Set when the server answered with an exception (§7).</summary>
    public ModbusExceptionCode? ExceptionCode { get; }

    /// <summary>True for an exception response.</summary>
    public bool IsException => ExceptionCode is not null;

    /// <summary>Echoed address (FC05/06/15/16).</summary>
    public ushort Address { get; }

    /// <summary>Echoed quantity (FC15/16) or written value (FC05: 0xFF00/0x0000, FC06: register value).</summary>
    public ushort Quantity { get; }

    /// <summary>Register values (FC03/04).</summary>
    public ushort[]? Registers { get; }

    /// <summary>Bit values (FC01/02), LSB of the first data byte first.</summary>
    public bool[]? Bits { get; }

    /// <summary>Exception response (§7).</summary>
    public static ModbusResponse Exception(ModbusFunctionCode function, ModbusExceptionCode code) => new(function, code);

    /// <summary>FC03/FC04 reply.</summary>
    public static ModbusResponse ReadRegisters(ModbusFunctionCode function, ushort[] registers) => new(function, registers: registers);

    /// <summary>FC01/FC02 reply.</summary>
    public static ModbusResponse ReadBits(ModbusFunctionCode function, bool[] bits) => new(function, bits: bits);

    /// <summary>FC05/06/15/16 reply.</summary>
    public static ModbusResponse WriteEcho(ModbusFunctionCode function, ushort address, ushort quantityOrValue) => new(function, address: address, quantity: quantityOrValue);

    /// <inheritdoc />
    public override string ToString() => IsException ? $"{Function} exception {ExceptionCode}" : $"{Function}";
}

/// <summary>A decoded ADU: the message plus its addressing. RTU frames have <see cref="TransactionId"/> 0.</summary>
/// <typeparam name="T"><see cref="ModbusRequest"/> or <see cref="ModbusResponse"/>.</typeparam>
public readonly record struct ModbusFrame<T>(ushort TransactionId, byte UnitId, T Message);
