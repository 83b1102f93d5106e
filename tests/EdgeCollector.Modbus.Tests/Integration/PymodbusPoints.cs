namespace EdgeCollector.Modbus.Tests.Integration;

/// <summary>The same set of values described once for pymodbus (JSON) and once as our tags.</summary>
internal static class PymodbusPoints
{
    public const byte Unit = 1;

    public const int Size = 1000;

    private static readonly (ModbusDataType Type, string Name, double Value)[] Values =
    [
        (ModbusDataType.Int16, "int16", -12345),
        (ModbusDataType.UInt16, "uint16", 54321),
        (ModbusDataType.Int32, "int32", -123456789),
        (ModbusDataType.UInt32, "uint32", 3123456789),
        (ModbusDataType.Int64, "int64", -1234567890123456),
        (ModbusDataType.UInt64, "uint64", 4503599627370497),
        (ModbusDataType.Float32, "float32", (double)12345.678f),
        (ModbusDataType.Float64, "float64", 1234567.890625),
        (ModbusDataType.Bcd16, "bcd16", 9876),
        (ModbusDataType.Bcd32, "bcd32", 12345678),
        (ModbusDataType.Bcd48, "bcd48", 123456789012),
    ];

    public static IReadOnlyList<(ModbusTag Tag, double Expected)> Tags
    {
        get
        {
            var list = new List<(ModbusTag, double)>();
            ushort address = 0;
            foreach (var area in new[] { ModbusArea.Holding, ModbusArea.Input })
            {
                foreach (var order in Enum.GetValues<ModbusWordOrder>())
                {
                    foreach (var (type, name, value) in Values)
                    {
                        // Spaced by 5 so coalesced blocks also carry unused registers.
                        list.Add((new ModbusTag($"{area}.{name}.{order}", Unit, area, address, type, order), value));
                        address += 5;
                    }
                }
            }

            return list;
        }
    }

    public static readonly int[] Coils = [0, 3, 7, 8, 15, 16];

    public static readonly int[] DiscreteInputs = [1, 2, 9];

    public static object Units => new Dictionary<string, object>
    {
        [Unit.ToString()] = new
        {
            size = Size,
            points = Tags.Select(t => new
            {
                area = t.Tag.Area == ModbusArea.Holding ? "hr" : "ir",
                address = (int)t.Tag.Address,
                type = Values.Single(v => v.Type == t.Tag.DataType).Name,
                order = t.Tag.WordOrder.ToString(),
                value = t.Expected,
            }).ToArray(),
            bits = Coils.Select(c => new { area = "co", address = c, value = true })
                .Concat(DiscreteInputs.Select(d => new { area = "di", address = d, value = true })).ToArray(),
        },
    };
}
