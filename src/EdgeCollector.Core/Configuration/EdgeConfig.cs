namespace EdgeCollector.Core.Configuration;

// The configuration model, exactly in the shape of shared/docs/contracts.md §1.
// It is plain data: reading and validating it (with config paths in every message)
// is the host's ConfigReader; the engine compiles it into a PlantModel.

/// <summary>The whole collector configuration (contracts.md §1).</summary>
public sealed class EdgeConfig
{
    public SiteConfig Site { get; init; } = new();
    public IReadOnlyList<SourceConfig> Sources { get; init; } = [];
    public IReadOnlyList<FurnaceConfig> Furnaces { get; init; } = [];
    public IReadOnlyList<MeterConfig> SiteMeters { get; init; } = [];
    public FactorsConfig Factors { get; init; } = new();
    public TargetsConfig Targets { get; init; } = new();
    public EngineConfig Engine { get; init; } = new();
    public UplinkConfig Uplink { get; init; } = new();
    public StorageConfig Storage { get; init; } = new();
    public DashboardConfig Dashboard { get; init; } = new();
}

public sealed class SiteConfig
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public string TimeZone { get; init; } = "UTC";
    /// <summary>Local shift start times, "HH:mm".</summary>
    public IReadOnlyList<TimeOnly> ShiftStarts { get; init; } = [new TimeOnly(0, 0)];
}

public enum SourceType { OpcUa, ModbusTcp, ModbusRtu, ModbusRtuOverTcp, Scale, Recording }

public enum SecurityMode { None, Sign, SignAndEncrypt }

public enum ModbusArea { Holding, Input, Coil, Discrete }

public enum WordOrder { ABCD, CDAB, BADC, DCBA }

/// <summary>Register data types: <c>Bcd</c> is one register (4 digits), <c>Bcd32</c> two (8 digits), <c>Bcd48</c> the 6-byte, 4-decimal totaliser BCD of gas correctors.</summary>
public enum ModbusDataType { Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64, Bcd, Bcd32, Bcd48, Bit }

public enum SerialParity { None, Even, Odd }

public sealed class SourceConfig
{
    public string Name { get; init; } = "";
    public SourceType Type { get; init; }
    // OpcUa
    public string? Endpoint { get; init; }
    public SecurityMode SecurityMode { get; init; } = SecurityMode.None;
    public string? SecurityPolicy { get; init; }
    public string? UserName { get; init; }
    public string? PasswordEnv { get; init; }
    /// <summary>OpcUa Security.PkiDir: the PKI folder (own, trusted, issuers, rejected); null = {Storage.DataDir}/pki.</summary>
    public string? PkiDir { get; init; }
    /// <summary>OpcUa Security.AutoAcceptUntrusted: trust unknown server certificates (labs only; logged).</summary>
    public bool AutoAcceptUntrusted { get; init; }
    public int PublishingIntervalMs { get; init; } = 1000;
    // Modbus TCP / RTU over TCP
    public string? Host { get; init; }
    public int? TcpPort { get; init; }
    // Serial (ModbusRtu, Scale): "Port" is a device path for these types.
    public string? SerialPort { get; init; }
    public int Baud { get; init; } = 9600;
    public SerialParity Parity { get; init; } = SerialParity.None;
    public int DataBits { get; init; } = 8;
    public int StopBits { get; init; } = 1;
    public int PollMs { get; init; } = 1000;
    public int TimeoutMs { get; init; } = 1000;
    // Scale
    public string? Tcp { get; init; }
    public string? Protocol { get; init; }
    public string Unit { get; init; } = "kg";
    public double StableBandKg { get; init; } = 2;
    public double StableSeconds { get; init; } = 2;
    public double ZeroBandKg { get; init; } = 5;
    public double SilentSeconds { get; init; } = 10;
    // Recording (a JSONL file of contracts.md §3 records fed as a live source)
    public string? Path { get; init; }
    public IReadOnlyList<TagConfig> Tags { get; init; } = [];
}

public sealed class CounterConfig
{
    /// <summary>The value after which the totaliser rolls over to zero; null = no rollover, a drop is a reset.</summary>
    public double? Max { get; init; }
    /// <summary>Largest plausible rate in the tag's unit per hour; a faster delta is rejected.</summary>
    public double? MaxRatePerHour { get; init; }
}

public sealed class TagConfig
{
    public string Tag { get; init; } = "";
    public string? NodeId { get; init; }
    public string? Unit { get; init; }
    public CounterConfig? Counter { get; init; }
    public int UnitId { get; init; } = 1;
    public ModbusArea Area { get; init; } = ModbusArea.Holding;
    public int Address { get; init; }
    public ModbusDataType DataType { get; init; } = ModbusDataType.UInt16;
    public WordOrder WordOrder { get; init; } = WordOrder.ABCD;
    public double Scale { get; init; } = 1;
    public double Offset { get; init; }
    /// <summary>Physical limits: a value outside them is a Bad sample, counted and logged.</summary>
    public double? Min { get; init; }
    public double? MaxValue { get; init; }
}

public enum MeterKind { Fuel, Electricity }

public enum VolumeBasis { Standard, Actual }

public sealed class MeterConfig
{
    public string Tag { get; init; } = "";
    public MeterKind Kind { get; init; }
    public string? Fuel { get; init; }
    public VolumeBasis Volume { get; init; } = VolumeBasis.Standard;
    public double BaseTemperatureC { get; init; }
    public double BasePressureKPa { get; init; } = 101.325;
    public string? PressureTag { get; init; }
    public string? TemperatureTag { get; init; }
    public double? PressureKPa { get; init; }
    public double? TemperatureC { get; init; }
}

public enum ScaleRole { Charge, Tap, Dross }

public enum Material { Primary, PreConsumer, PostConsumerUbc, PostConsumerOther, Internal, Alloying }

public sealed class FurnaceScaleConfig
{
    public string Source { get; init; } = "";
    public ScaleRole Role { get; init; }
}

public sealed class FurnaceConfig
{
    public string Id { get; init; } = "";
    public string? StateTag { get; init; }
    public string? HeatNumberTag { get; init; }
    public string? HeelMassTag { get; init; }
    public IReadOnlyList<MeterConfig> Meters { get; init; } = [];
    public IReadOnlyList<FurnaceScaleConfig> Scales { get; init; } = [];
    public Material? DefaultMaterial { get; init; }
}

public sealed class FuelFactors
{
    public double NcvGJPerNm3 { get; init; }
    public double CarbonTCPerTJ { get; init; }
    public double Oxidation { get; init; } = 1;
    public string Source { get; init; } = "";
}

public sealed class ElectricityFactors
{
    public double GridTCO2PerMWh { get; init; }
    public double? ResidualTCO2PerMWh { get; init; }
    public double GreenKWhShare { get; init; }
    public string Source { get; init; } = "";
}

public sealed class FactorsConfig
{
    public string Set { get; init; } = "";
    public IReadOnlyDictionary<string, FuelFactors> Fuels { get; init; } = new Dictionary<string, FuelFactors>();
    public ElectricityFactors Electricity { get; init; } = new();
    public IReadOnlyDictionary<Material, double> MaterialYield { get; init; } = new Dictionary<Material, double>();
    public string MaterialYieldSource { get; init; } = "";
}

public sealed class TargetsConfig
{
    public IReadOnlyDictionary<int, double> IntensityTCO2ePerT { get; init; } = new Dictionary<int, double>();
    public IReadOnlyDictionary<int, double> ScrapUseT { get; init; } = new Dictionary<int, double>();
    public string Source { get; init; } = "";
}

public sealed class EngineConfig
{
    public double MaxHoldSeconds { get; init; } = 900;
}

public sealed class MqttConfig
{
    public string Broker { get; init; } = "mqtt://127.0.0.1:1883";
    public string ClientId { get; init; } = "";
    public string TopicPrefix { get; init; } = "edgecollector/v1";
    public string ProtocolVersion { get; init; } = "5.0";
    public string? User { get; init; }
    public string? PasswordEnv { get; init; }
    public string? CaFile { get; init; }
    public string? ClientCertFile { get; init; }
}

public sealed class UplinkConfig
{
    public MqttConfig? Mqtt { get; init; }
}

public sealed class InfluxConfig
{
    public string Url { get; init; } = "";
    public string Api { get; init; } = "v2";
    public string? Org { get; init; }
    public string? Bucket { get; init; }
    public string? TokenEnv { get; init; }
    public string? Database { get; init; }
}

public sealed class StorageConfig
{
    public string DataDir { get; init; } = "./data";
    public InfluxConfig? Influx { get; init; }
}

public sealed class DashboardConfig
{
    public string Urls { get; init; } = "http://127.0.0.1:8080";
    public string? TokenEnv { get; init; }
}
