namespace EdgeCollector.Modbus;

/// <summary>
/// The four data areas of one simulated or served unit. Only addresses that were defined (by
/// <see cref="Define"/> or by writing a value) can be read; anything else answers exception 02
/// (Modbus Application Protocol v1.1b3 §7), as real meters do. Thread-safe.
/// </summary>
public sealed class ModbusRegisterStore
{
    private readonly object _lock = new();
    private readonly ushort[] _holding = new ushort[65536];
    private readonly ushort[] _input = new ushort[65536];
    private readonly bool[] _coils = new bool[65536];
    private readonly bool[] _discrete = new bool[65536];
    private readonly bool[][] _defined = [new bool[65536], new bool[65536], new bool[65536], new bool[65536]];

    /// <summary>When set, every request to this unit answers with this exception (a faulted device).</summary>
    public ModbusExceptionCode? FailWith { get; set; }

    /// <summary>Makes <paramref name="count"/> addresses from <paramref name="address"/> readable.</summary>
    public void Define(ModbusArea area, int address, int count)
    {
        CheckRange(address, count);
        lock (_lock)
        {
            Array.Fill(_defined[(int)area], true, address, count);
        }
    }

    /// <summary>Makes addresses unreadable again (exception 02).</summary>
    public void Undefine(ModbusArea area, int address, int count)
    {
        CheckRange(address, count);
        lock (_lock)
        {
            Array.Fill(_defined[(int)area], false, address, count);
        }
    }

    /// <summary>Sets registers (Holding or Input) and defines them.</summary>
    public void SetRegisters(ModbusArea area, int address, ReadOnlySpan<ushort> values)
    {
        CheckRange(address, values.Length);
        lock (_lock)
        {
            values.CopyTo(Registers(area).AsSpan(address));
            Array.Fill(_defined[(int)area], true, address, values.Length);
        }
    }

    /// <summary>Sets bits (Coil or Discrete) and defines them.</summary>
    public void SetBits(ModbusArea area, int address, ReadOnlySpan<bool> values)
    {
        CheckRange(address, values.Length);
        lock (_lock)
        {
            values.CopyTo(Bits(area).AsSpan(address));
            Array.Fill(_defined[(int)area], true, address, values.Length);
        }
    }

    /// <summary>Encodes <paramref name="value"/> as <paramref name="type"/> and stores it.</summary>
    public void SetValue(ModbusArea area, int address, ModbusDataType type, double value, ModbusWordOrder order = ModbusWordOrder.ABCD) =>
        SetRegisters(area, address, ModbusValueCodec.Encode(type, order, value));

    /// <summary>Copies registers out (no definition check).</summary>
    public ushort[] GetRegisters(ModbusArea area, int address, int count)
    {
        CheckRange(address, count);
        lock (_lock)
        {
            return Registers(area).AsSpan(address, count).ToArray();
        }
    }

    /// <summary>Copies bits out (no definition check).</summary>
    public bool[] GetBits(ModbusArea area, int address, int count)
    {
        CheckRange(address, count);
        lock (_lock)
        {
            return Bits(area).AsSpan(address, count).ToArray();
        }
    }

    /// <summary>Executes a request against the store, returning the normal or exception response.</summary>
    public ModbusResponse Execute(ModbusRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var f = request.Function;
        if (FailWith is { } failure)
        {
            return ModbusResponse.Exception(f, failure);
        }

        lock (_lock)
        {
            switch (f)
            {
                case ModbusFunctionCode.ReadHoldingRegisters or ModbusFunctionCode.ReadInputRegisters:
                {
                    var area = f == ModbusFunctionCode.ReadHoldingRegisters ? ModbusArea.Holding : ModbusArea.Input;
                    return Defined(area, request.Address, request.Quantity)
                        ? ModbusResponse.ReadRegisters(f, Registers(area).AsSpan(request.Address, request.Quantity).ToArray())
                        : ModbusResponse.Exception(f, ModbusExceptionCode.IllegalDataAddress);
                }

                case ModbusFunctionCode.ReadCoils or ModbusFunctionCode.ReadDiscreteInputs:
                {
                    var area = f == ModbusFunctionCode.ReadCoils ? ModbusArea.Coil : ModbusArea.Discrete;
                    return Defined(area, request.Address, request.Quantity)
                        ? ModbusResponse.ReadBits(f, Bits(area).AsSpan(request.Address, request.Quantity).ToArray())
                        : ModbusResponse.Exception(f, ModbusExceptionCode.IllegalDataAddress);
                }

                case ModbusFunctionCode.WriteSingleRegister or ModbusFunctionCode.WriteMultipleRegisters:
                {
                    var values = request.Registers!;
                    if (!Defined(ModbusArea.Holding, request.Address, values.Length))
                    {
                        return ModbusResponse.Exception(f, ModbusExceptionCode.IllegalDataAddress);
                    }

                    values.CopyTo(_holding.AsSpan(request.Address));
                    return ModbusResponse.WriteEcho(f, request.Address, f == ModbusFunctionCode.WriteSingleRegister ? values[0] : request.Quantity);
                }

                case ModbusFunctionCode.WriteSingleCoil or ModbusFunctionCode.WriteMultipleCoils:
                {
                    var values = request.Coils!;
                    if (!Defined(ModbusArea.Coil, request.Address, values.Length))
                    {
                        return ModbusResponse.Exception(f, ModbusExceptionCode.IllegalDataAddress);
                    }

                    values.CopyTo(_coils.AsSpan(request.Address));
                    return ModbusResponse.WriteEcho(f, request.Address, f == ModbusFunctionCode.WriteSingleCoil ? (values[0] ? (ushort)0xFF00 : (ushort)0) : request.Quantity);
                }

                default:
                    return ModbusResponse.Exception(f, ModbusExceptionCode.IllegalFunction);
            }
        }
    }

    private bool Defined(ModbusArea area, int address, int count) =>
        address + count <= 65536 && !_defined[(int)area].AsSpan(address, count).Contains(false);

    private ushort[] Registers(ModbusArea area) => area switch
    {
        ModbusArea.Holding => _holding,
        ModbusArea.Input => _input,
        _ => throw new ArgumentOutOfRangeException(nameof(area), area, "Not a register area."),
    };

    private bool[] Bits(ModbusArea area) => area switch
    {
        ModbusArea.Coil => _coils,
        ModbusArea.Discrete => _discrete,
        _ => throw new ArgumentOutOfRangeException(nameof(area), area, "Not a bit area."),
    };

    private static void CheckRange(int address, int count)
    {
        if (address < 0 || count < 0 || address + count > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(address), address, "Range must lie within 0..65535.");
        }
    }
}

/// <summary>The units a slave serves. Requests to other unit ids are not answered (a silent device).</summary>
public sealed class ModbusUnitMap
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte, ModbusRegisterStore> _units = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte, bool> _muted = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte, int> _drop = new();

    /// <summary>Adds (or returns) the store of <paramref name="unitId"/>.</summary>
    public ModbusRegisterStore Add(byte unitId) => _units.GetOrAdd(unitId, _ => new ModbusRegisterStore());

    /// <summary>Serves an existing store as <paramref name="unitId"/>.</summary>
    public void Add(byte unitId, ModbusRegisterStore store) => _units[unitId] = store;

    /// <summary>Ignores the next <paramref name="count"/> requests to <paramref name="unitId"/> (simulates lost frames).</summary>
    public void DropNext(byte unitId, int count) => _drop[unitId] = count;

    /// <summary>Stops or resumes answering <paramref name="unitId"/> (simulates a dead device).</summary>
    public void SetMuted(byte unitId, bool muted) => _muted[unitId] = muted;

    /// <summary>
    /// Executes a request; null means "send nothing" (unknown or muted unit, or broadcast,
    /// Modbus over Serial Line v1.02 §2.1).
    /// </summary>
    public ModbusResponse? Handle(byte unitId, ModbusRequest request)
    {
        if (unitId == 0)
        {
            foreach (var store in _units.Values)
            {
                if (request.Function is ModbusFunctionCode.WriteSingleCoil or ModbusFunctionCode.WriteSingleRegister
                    or ModbusFunctionCode.WriteMultipleCoils or ModbusFunctionCode.WriteMultipleRegisters)
                {
                    store.Execute(request);
                }
            }

            return null;
        }

        if (_muted.TryGetValue(unitId, out bool muted) && muted)
        {
            return null;
        }

        if (_drop.TryGetValue(unitId, out int drop) && drop > 0 && _drop.TryUpdate(unitId, drop - 1, drop))
        {
            return null;
        }

        return _units.TryGetValue(unitId, out var unit) ? unit.Execute(request) : null;
    }

    /// <summary>Whether the unit exists and is not muted.</summary>
    public bool Answers(byte unitId) => _units.ContainsKey(unitId) && !(_muted.TryGetValue(unitId, out bool m) && m);
}
