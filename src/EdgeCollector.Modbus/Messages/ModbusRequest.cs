namespace EdgeCollector.Modbus;

/// <summary>
/// A request PDU. Which members matter depends on <see cref="Function"/>:
/// reads use <see cref="Address"/> and <see cref="Quantity"/>; FC05 uses <see cref="Coils"/>[0];
/// FC06 uses <see cref="Registers"/>[0]; FC15/FC16 use <see cref="Quantity"/> and the values.
/// </summary>
public sealed record ModbusRequest
{
    /// <summary>Maximum registers in one FC03/FC04 read (§6.3: 1 to 125).</summary>
    public const int MaxReadRegisters = 125;

    /// <summary>Maximum bits in one FC01/FC02 read (§6.1: 1 to 2000).</summary>
    public const int MaxReadBits = 2000;

    /// <summary>Maximum registers in one FC16 write (§6.12: 1 to 123).</summary>
    public const int MaxWriteRegisters = 123;

    /// <summary>Maximum coils in one FC15 write (§6.11: 1 to 1968).</summary>
    public const int MaxWriteCoils = 1968;

    /// <summary>Creates a request; prefer the static factories.</summary>
    public ModbusRequest(ModbusFunctionCode function, ushort address, ushort quantity, ushort[]? registers = null, bool[]? coils = null)
    {
        Function = function;
        Address = address;
        Quantity = quantity;
        Registers = registers;
        Coils = coils;
    }

    /// <summary>Function code.</summary>
    public ModbusFunctionCode Function { get; }

    /// <summary>Starting (0-based wire) address.</summary>
    public ushort Address { get; }

    /// <summary>Number of bits or registers addressed (1 for single writes).</summary>
    public ushort Quantity { get; }

    /// <summary>Register values for FC06 (one) and FC16.</summary>
    public ushort[]? Registers { get; }

    /// <summary>Coil values for FC05 (one) and FC15.</summary>
    public bool[]? Coils { get; }

    /// <summary>FC01.</summary>
    public static ModbusRequest ReadCoils(ushort address, ushort quantity) => new(ModbusFunctionCode.ReadCoils, address, quantity);

    /// <summary>FC02.</summary>
    public static ModbusRequest ReadDiscreteInputs(ushort address, ushort quantity) => new(ModbusFunctionCode.ReadDiscreteInputs, address, quantity);

    /// <summary>FC03.</summary>
    public static ModbusRequest ReadHoldingRegisters(ushort address, ushort quantity) => new(ModbusFunctionCode.ReadHoldingRegisters, address, quantity);

    /// <summary>FC04.</summary>
    public static ModbusRequest ReadInputRegisters(ushort address, ushort quantity) => new(ModbusFunctionCode.ReadInputRegisters, address, quantity);

    /// <summary>FC05.</summary>
    public static ModbusRequest WriteSingleCoil(ushort address, bool value) => new(ModbusFunctionCode.WriteSingleCoil, address, 1, coils: [value]);

    /// <summary>FC06.</summary>
    public static ModbusRequest WriteSingleRegister(ushort address, ushort value) => new(ModbusFunctionCode.WriteSingleRegister, address, 1, registers: [value]);

    /// <summary>FC15.</summary>
    public static ModbusRequest WriteMultipleCoils(ushort address, bool[] values) => new(ModbusFunctionCode.WriteMultipleCoils, address, checked((ushort)values.Length), coils: values);

    /// <summary>FC16.</summary>
    public static ModbusRequest WriteMultipleRegisters(ushort address, ushort[] values) => new(ModbusFunctionCode.WriteMultipleRegisters, address, checked((ushort)values.Length), registers: values);

    /// <summary>The read request for <paramref name="area"/>.</summary>
    public static ModbusRequest Read(ModbusArea area, ushort address, ushort quantity) => area switch
    {
        ModbusArea.Holding => ReadHoldingRegisters(address, quantity),
        ModbusArea.Input => ReadInputRegisters(address, quantity),
        ModbusArea.Coil => ReadCoils(address, quantity),
        ModbusArea.Discrete => ReadDiscreteInputs(address, quantity),
        _ => throw new ArgumentOutOfRangeException(nameof(area), area, null),
    };

    /// <inheritdoc />
    public override string ToString() => $"{Function} @{Address} x{Quantity}";
}
