namespace EdgeCollector.Sim.Modbus;

/// <summary>
/// A simulated Modbus device: a register map laid out like the real product. Scenarios set
/// engineering values; the device encodes them into its <see cref="Registers"/> the way the
/// product does. Serve it with <see cref="ModbusUnitMap.Add(byte, ModbusRegisterStore)"/> on a
/// <see cref="ModbusTcpSlave"/> or <see cref="ModbusRtuSlave"/>.
/// </summary>
public abstract class SimulatedModbusDevice
{
    /// <summary>Creates the device with an empty map.</summary>
    protected SimulatedModbusDevice(byte unitId)
    {
        UnitId = unitId;
    }

    /// <summary>Unit id the device answers to.</summary>
    public byte UnitId { get; }

    /// <summary>The register map.</summary>
    public ModbusRegisterStore Registers { get; } = new();

    /// <summary>Adds this device to <paramref name="units"/>.</summary>
    public void AttachTo(ModbusUnitMap units)
    {
        ArgumentNullException.ThrowIfNull(units);
        units.Add(UnitId, Registers);
    }
}

/// <summary>
/// Schneider Electric PowerLogic PM5xxx. The manual numbers registers from 1, so manual register
/// N is wire address N − 1 (domain-defaults.md "Meters (Modbus)"). All read with FC03, big-endian.
/// </summary>
public sealed class SchneiderPm5xxxMeter : SimulatedModbusDevice
{
    /// <summary>Wire address of "active energy delivered" as float32 kWh (manual 2700).</summary>
    public const ushort EnergyFloatKWhAddress = 2699;

    /// <summary>Wire address of "active energy delivered" as int64 Wh (manual 3204).</summary>
    public const ushort EnergyInt64WhAddress = 3203;

    /// <summary>Wire address of total active power as float32 kW (manual 3060).</summary>
    public const ushort ActivePowerKWAddress = 3059;

    /// <summary>Creates the meter with energy and power zero.</summary>
    public SchneiderPm5xxxMeter(byte unitId = 1)
        : base(unitId)
    {
        SetEnergyKWh(0);
        SetActivePowerKW(0);
    }

    /// <summary>Active energy delivered, written to both the float32 kWh and the int64 Wh registers.</summary>
    public void SetEnergyKWh(double kWh)
    {
        Registers.SetValue(ModbusArea.Holding, EnergyFloatKWhAddress, ModbusDataType.Float32, kWh);
        Registers.SetRegisters(ModbusArea.Holding, EnergyInt64WhAddress, ModbusValueCodec.EncodeInt64((long)Math.Round(kWh * 1000)));
    }

    /// <summary>Total active power.</summary>
    public void SetActivePowerKW(double kW) =>
        Registers.SetValue(ModbusArea.Holding, ActivePowerKWAddress, ModbusDataType.Float32, kW);
}

/// <summary>
/// Acrel DTSD1352 three-phase meter: total active energy at FC03 0x0000 as uint32, high word first,
/// in 0.01 kWh on the secondary side (multiply by PT × CT for primary).
/// </summary>
public sealed class AcrelDtsd1352Meter : SimulatedModbusDevice
{
    /// <summary>Wire address of total active energy.</summary>
    public const ushort EnergyAddress = 0x0000;

    /// <summary>Creates the meter with energy zero.</summary>
    public AcrelDtsd1352Meter(byte unitId = 1)
        : base(unitId) => SetEnergyKWh(0);

    /// <summary>Secondary-side total active energy; stored as hundredths of a kWh.</summary>
    public void SetEnergyKWh(double kWh) =>
        Registers.SetValue(ModbusArea.Holding, EnergyAddress, ModbusDataType.UInt32, Math.Round(kWh * 100));
}

/// <summary>Eastron SDM630: float32 big-endian input registers read with FC04.</summary>
public sealed class EastronSdm630Meter : SimulatedModbusDevice
{
    /// <summary>Total system power, W (input 30053).</summary>
    public const ushort TotalPowerWAddress = 0x0034;

    /// <summary>Import active energy, kWh (input 30073).</summary>
    public const ushort ImportEnergyKWhAddress = 0x0048;

    /// <summary>Total active energy, kWh (input 30343).</summary>
    public const ushort TotalEnergyKWhAddress = 0x0156;

    /// <summary>Creates the meter with zero readings.</summary>
    public EastronSdm630Meter(byte unitId = 1)
        : base(unitId)
    {
        SetEnergyKWh(0);
        SetImportEnergyKWh(0);
        SetTotalPowerW(0);
    }

    /// <summary>Total active energy.</summary>
    public void SetEnergyKWh(double kWh) => Registers.SetValue(ModbusArea.Input, TotalEnergyKWhAddress, ModbusDataType.Float32, kWh);

    /// <summary>Import active energy.</summary>
    public void SetImportEnergyKWh(double kWh) => Registers.SetValue(ModbusArea.Input, ImportEnergyKWhAddress, ModbusDataType.Float32, kWh);

    /// <summary>Total system power.</summary>
    public void SetTotalPowerW(double watts) => Registers.SetValue(ModbusArea.Input, TotalPowerWAddress, ModbusDataType.Float32, watts);
}

/// <summary>
/// A typical Chinese electronic volume corrector (EVC). There is no single standard map; this one
/// is laid out as such devices commonly are (FC03, big-endian):
/// <code>
/// 0x0000 standard (base) total, Nm3     float32
/// 0x0002 working (actual) total, m3     float32
/// 0x0004 temperature, °C                float32
/// 0x0006 absolute pressure, kPa         float32
/// 0x0008 standard flow rate, Nm3/h      float32
/// 0x0010 standard total, Nm3            6-byte BCD, 4 decimals (3 registers)
/// 0x0013 working total, m3              6-byte BCD, 4 decimals (3 registers)
/// </code>
/// The BCD totals keep every unit that the float32 copies lose above 2^24.
/// </summary>
public sealed class GasVolumeCorrector : SimulatedModbusDevice
{
    /// <summary>Standard total, float32.</summary>
    public const ushort StandardTotalFloatAddress = 0x0000;

    /// <summary>Working total, float32.</summary>
    public const ushort WorkingTotalFloatAddress = 0x0002;

    /// <summary>Temperature, float32 °C.</summary>
    public const ushort TemperatureAddress = 0x0004;

    /// <summary>Pressure, float32 kPa.</summary>
    public const ushort PressureAddress = 0x0006;

    /// <summary>Standard flow, float32 Nm3/h.</summary>
    public const ushort StandardFlowAddress = 0x0008;

    /// <summary>Standard total, BCD48 with 4 decimals.</summary>
    public const ushort StandardTotalBcdAddress = 0x0010;

    /// <summary>Working total, BCD48 with 4 decimals.</summary>
    public const ushort WorkingTotalBcdAddress = 0x0013;

    /// <summary>Scale of the BCD totals (4 decimals).</summary>
    public const double BcdScale = 0.0001;

    /// <summary>Creates the corrector at 20 °C, 101.325 kPa, zero totals.</summary>
    public GasVolumeCorrector(byte unitId = 1)
        : base(unitId)
    {
        SetStandardTotalNm3(0);
        SetWorkingTotalM3(0);
        SetTemperatureC(20);
        SetPressureKPa(101.325);
        SetStandardFlowNm3PerHour(0);
    }

    /// <summary>Standard total (float32 and BCD copies). Must be below 10^8 Nm3 (8 integer digits).</summary>
    public void SetStandardTotalNm3(decimal nm3)
    {
        Registers.SetValue(ModbusArea.Holding, StandardTotalFloatAddress, ModbusDataType.Float32, (double)nm3);
        Registers.SetValue(ModbusArea.Holding, StandardTotalBcdAddress, ModbusDataType.Bcd48, (double)decimal.Round(nm3 * 10000m));
    }

    /// <summary>Working total (float32 and BCD copies).</summary>
    public void SetWorkingTotalM3(decimal m3)
    {
        Registers.SetValue(ModbusArea.Holding, WorkingTotalFloatAddress, ModbusDataType.Float32, (double)m3);
        Registers.SetValue(ModbusArea.Holding, WorkingTotalBcdAddress, ModbusDataType.Bcd48, (double)decimal.Round(m3 * 10000m));
    }

    /// <summary>Gas temperature.</summary>
    public void SetTemperatureC(double celsius) => Registers.SetValue(ModbusArea.Holding, TemperatureAddress, ModbusDataType.Float32, celsius);

    /// <summary>Absolute pressure.</summary>
    public void SetPressureKPa(double kPa) => Registers.SetValue(ModbusArea.Holding, PressureAddress, ModbusDataType.Float32, kPa);

    /// <summary>Standard flow rate.</summary>
    public void SetStandardFlowNm3PerHour(double nm3PerHour) => Registers.SetValue(ModbusArea.Holding, StandardFlowAddress, ModbusDataType.Float32, nm3PerHour);
}
