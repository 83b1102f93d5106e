namespace EdgeCollector.Modbus;

/// <summary>Typed master operations on a <see cref="ModbusConnection"/>, validating that each reply answers its request.</summary>
public static class ModbusMasterExtensions
{
    private const string Spec = "Modbus Application Protocol v1.1b3";

    /// <summary>FC03 or FC04: reads <paramref name="count"/> registers.</summary>
    public static async Task<ushort[]> ReadRegistersAsync(this ModbusConnection connection, byte unitId, ModbusArea area, ushort address, ushort count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (area is not (ModbusArea.Holding or ModbusArea.Input))
        {
            throw new ArgumentOutOfRangeException(nameof(area), area, "Registers live in the Holding or Input area.");
        }

        var request = ModbusRequest.Read(area, address, count);
        var response = await connection.SendAsync(unitId, request, cancellationToken).ConfigureAwait(false);
        if (response.Registers is not { } registers || registers.Length != count)
        {
            throw new ModbusProtocolException($"Unit {unitId} returned {response.Registers?.Length ?? 0} registers for {request} ({Spec} {ModbusPduCodec.Clause(request.Function)}).");
        }

        return registers;
    }

    /// <summary>FC01 or FC02: reads <paramref name="count"/> bits.</summary>
    public static async Task<bool[]> ReadBitsAsync(this ModbusConnection connection, byte unitId, ModbusArea area, ushort address, ushort count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (area is not (ModbusArea.Coil or ModbusArea.Discrete))
        {
            throw new ArgumentOutOfRangeException(nameof(area), area, "Bits live in the Coil or Discrete area.");
        }

        var request = ModbusRequest.Read(area, address, count);
        var response = await connection.SendAsync(unitId, request, cancellationToken).ConfigureAwait(false);
        if (response.Bits is not { } bits || bits.Length != (count + 7) / 8 * 8)
        {
            throw new ModbusProtocolException($"Unit {unitId} returned {(response.Bits?.Length ?? 0) / 8} bytes of bits for {request} ({Spec} {ModbusPduCodec.Clause(request.Function)}).");
        }

        return bits[..count];
    }

    /// <summary>FC06.</summary>
    public static Task WriteRegisterAsync(this ModbusConnection connection, byte unitId, ushort address, ushort value, CancellationToken cancellationToken = default) =>
        WriteAsync(connection, unitId, ModbusRequest.WriteSingleRegister(address, value), value, cancellationToken);

    /// <summary>FC16.</summary>
    public static Task WriteRegistersAsync(this ModbusConnection connection, byte unitId, ushort address, ushort[] values, CancellationToken cancellationToken = default) =>
        WriteAsync(connection, unitId, ModbusRequest.WriteMultipleRegisters(address, values), (ushort)values.Length, cancellationToken);

    /// <summary>FC05.</summary>
    public static Task WriteCoilAsync(this ModbusConnection connection, byte unitId, ushort address, bool value, CancellationToken cancellationToken = default) =>
        WriteAsync(connection, unitId, ModbusRequest.WriteSingleCoil(address, value), value ? (ushort)0xFF00 : (ushort)0, cancellationToken);

    /// <summary>FC15.</summary>
    public static Task WriteCoilsAsync(this ModbusConnection connection, byte unitId, ushort address, bool[] values, CancellationToken cancellationToken = default) =>
        WriteAsync(connection, unitId, ModbusRequest.WriteMultipleCoils(address, values), (ushort)values.Length, cancellationToken);

    /// <summary>
    /// Reads <paramref name="count"/> consecutive values of one type starting at <paramref name="address"/>:
    /// the operation behind <c>edgecollector modbus read --host H --port P --unit U --address A --type T --word-order O --count N</c>.
    /// </summary>
    public static async Task<IReadOnlyList<ModbusSample>> ReadValuesAsync(
        this ModbusConnection connection,
        byte unitId,
        ModbusArea area,
        ushort address,
        ModbusDataType type,
        ModbusWordOrder wordOrder = ModbusWordOrder.ABCD,
        int count = 1,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var tags = new List<ModbusTag>(count);
        int width = ModbusValueCodec.RegisterCount(type);
        for (int i = 0; i < count; i++)
        {
            bool bitArea = area is ModbusArea.Coil or ModbusArea.Discrete;
            tags.Add(new ModbusTag($"{area}:{address + (i * (bitArea ? 1 : width))}", unitId, area, checked((ushort)(address + (i * (bitArea ? 1 : width)))), type, wordOrder));
        }

        var poller = new ModbusPoller(connection, tags, new ModbusPollerOptions(), timeProvider);
        return await poller.PollOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteAsync(ModbusConnection connection, byte unitId, ModbusRequest request, ushort expectedEcho, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var response = await connection.SendAsync(unitId, request, cancellationToken).ConfigureAwait(false);
        if (unitId != 0 && (response.Address != request.Address || response.Quantity != expectedEcho))
        {
            throw new ModbusProtocolException($"Unit {unitId} echoed address {response.Address} / {response.Quantity} for {request} ({Spec} {ModbusPduCodec.Clause(request.Function)}).");
        }
    }
}
