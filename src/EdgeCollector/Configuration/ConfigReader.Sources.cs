using System.Text.RegularExpressions;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Configuration;

public sealed partial class ConfigReader
{
    // Keys each source type accepts (contracts.md §1). A key of another type is reported as
    // "not used by" that type: a Baud on a TCP source is a mistake, not a harmless extra.
    private static readonly string[] SerialKeys = ["Port", "Baud", "Parity", "DataBits", "StopBits"];

    private static readonly Dictionary<SourceType, string[]> SourceKeys = new()
    {
        [SourceType.OpcUa] = ["Name", "Type", "Endpoint", "Security", "User", "PublishingIntervalMs", "Tags"],
        [SourceType.ModbusTcp] = ["Name", "Type", "Host", "Port", "PollMs", "TimeoutMs", "Tags"],
        [SourceType.ModbusRtuOverTcp] = ["Name", "Type", "Host", "Port", "PollMs", "TimeoutMs", "Tags"],
        [SourceType.ModbusRtu] = ["Name", "Type", .. SerialKeys, "PollMs", "TimeoutMs", "Tags"],
        [SourceType.Scale] = ["Name", "Type", .. SerialKeys, "Tcp", "Protocol", "Unit", "StableBandKg", "StableSeconds", "ZeroBandKg", "SilentSeconds"],
        [SourceType.Recording] = ["Name", "Type", "Path", "Tags"],
    };

    private static readonly string[] AllSourceKeys = SourceKeys.Values.SelectMany(k => k).Distinct(StringComparer.Ordinal).ToArray();

    private static readonly string[] OpcUaTagKeys = ["Tag", "NodeId", "Unit", "Counter", "Min", "Max"];
    private static readonly string[] ModbusTagKeys = ["Tag", "UnitId", "Area", "Address", "DataType", "WordOrder", "Scale", "Offset", "Unit", "Counter", "Min", "Max"];
    private static readonly string[] AllTagKeys = [.. OpcUaTagKeys.Union(ModbusTagKeys, StringComparer.Ordinal)];
    private static readonly string[] RecordingTagKeys = ["Tag", "Unit", "Counter", "Min", "Max"];

    /// <summary>OPC 10000-7 security policies accepted; the SHA-1 ones are refused on purpose.</summary>
    private static readonly string[] SecurityPolicies = ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss", "None"];

    private static readonly string[] DeprecatedPolicies = ["Basic128Rsa15", "Basic256"];

    /// <summary>Weight-indicator protocols (EdgeCollector.Scales.Protocols.ScaleProtocols).</summary>
    private static readonly string[] ScaleProtocolNames = ["XK3190-A9", "XK3190-A9-Reversed", "XK3190-A12", "Toledo-Continuous", "MT-SICS", "AND"];

    private static readonly string[] ScaleUnits = ["kg", "g", "t", "lb"];

    private static readonly SourceConfig SourceDefaults = new();
    private static readonly TagConfig TagDefaults = new();

    /// <summary>Source name (case-insensitive, so two names never differ only by case) → source and its path.</summary>
    private readonly Dictionary<string, (SourceConfig? Source, SourceType? Type, string Path)> _sources = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Tag name (case-insensitive for uniqueness) → its exact spelling and the path that defines it.</summary>
    private readonly Dictionary<string, (string Name, string Path, string? Unit)> _tags = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A Recording source defines any tag (and scale) its records name, so references cannot be checked.</summary>
    private bool _hasRecording;

    private List<SourceConfig> ReadSources(ConfigNode node)
    {
        var items = node.Items();
        // First pass: is there a Recording source? (It relaxes the cross-reference checks.)
        _hasRecording = items.Any(i => string.Equals(i["Type"].Text(), nameof(SourceType.Recording), StringComparison.Ordinal));
        var sources = new List<SourceConfig>();
        foreach (var item in items)
        {
            if (item.IsObject() && ReadSource(item) is { } source)
                sources.Add(source);
        }
        return sources;
    }

    private SourceConfig? ReadSource(ConfigNode node)
    {
        var name = node["Name"].Name();
        var type = node["Type"].Enum<SourceType>(required: true);
        if (name is not null)
        {
            if (_sources.TryGetValue(name, out var first))
                node["Name"].Error($"'{name}' is already the name of {first.Path}");
            else
                _sources[name] = (null, type, node.Path);
        }

        if (type is not SourceType t)
        {
            node.AllowOnly(AllSourceKeys);
            ReadTags(node["Tags"], null);
            return null;
        }
        node.AllowOnly(SourceKeys[t], AllSourceKeys, $"not used by a {t} source");

        var source = t switch
        {
            SourceType.OpcUa => ReadOpcUa(node, name),
            SourceType.ModbusTcp or SourceType.ModbusRtuOverTcp => ReadModbusTcp(node, name, t),
            SourceType.ModbusRtu => ReadModbusRtu(node, name),
            SourceType.Scale => ReadScale(node, name),
            SourceType.Recording => ReadRecording(node, name),
            _ => throw new InvalidOperationException($"Unhandled source type {t}."),
        };
        if (name is not null && _sources.TryGetValue(name, out var entry) && entry.Path == node.Path)
            _sources[name] = (source, t, node.Path);
        return source;
    }

    private SourceConfig ReadOpcUa(ConfigNode node, string? name)
    {
        var endpoint = node["Endpoint"].RequiredText();
        if (endpoint is not null
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "opc.tcp" || string.IsNullOrEmpty(uri.Host)))
            node["Endpoint"].Error($"'{ConfigNode.Shorten(endpoint)}' is not an opc.tcp://host:port endpoint URL");

        // domain-defaults.md: security None only when configured explicitly, so Mode is required.
        var security = node["Security"];
        SecurityMode? mode = null;
        string? policy = null;
        string? pkiDir = null;
        var autoAccept = false;
        if (!security.Exists)
        {
            security.Error("required: { \"Mode\": \"Sign\" | \"SignAndEncrypt\", \"Policy\": … }, or { \"Mode\": \"None\" } to connect without security (never the default)");
        }
        else if (security.IsObject())
        {
            security.AllowOnly(["Mode", "Policy", "PkiDir", "AutoAcceptUntrusted"]);
            mode = security["Mode"].Enum<SecurityMode>(required: true);
            policy = ReadPolicy(security["Policy"]);
            if (mode == SecurityMode.None && policy is not null && policy != "None")
                security["Policy"].Error($"'{policy}' needs Mode Sign or SignAndEncrypt; with Mode None the Policy is None or absent");
            else if (mode is SecurityMode.Sign or SecurityMode.SignAndEncrypt && policy == "None")
                security["Policy"].Error($"Mode {mode} needs a security policy other than None");
            else if (mode is SecurityMode.Sign or SecurityMode.SignAndEncrypt && policy is null && !security["Policy"].Exists)
                security["Policy"].Error($"required with Mode {mode}: one of {string.Join(", ", SecurityPolicies.SkipLast(1))}");
            pkiDir = ReadPkiDir(security["PkiDir"]);
            autoAccept = ReadFlag(security["AutoAcceptUntrusted"]);
            if (autoAccept && mode == SecurityMode.None)
                security["AutoAcceptUntrusted"].Error("only applies with Mode Sign or SignAndEncrypt (there is no server certificate to accept with None)");
        }

        string? userName = null;
        string? passwordEnv = null;
        var user = node["User"];
        if (user.Exists && user.IsObject())
        {
            user.AllowOnly(["Name", "PasswordEnv"]);
            userName = user["Name"].Name();
            passwordEnv = user["PasswordEnv"].EnvName();
        }

        return new SourceConfig
        {
            Name = name ?? "",
            Type = SourceType.OpcUa,
            Endpoint = endpoint,
            SecurityMode = mode ?? SourceDefaults.SecurityMode,
            SecurityPolicy = policy,
            UserName = userName,
            PasswordEnv = passwordEnv,
            PkiDir = pkiDir,
            AutoAcceptUntrusted = autoAccept,
            PublishingIntervalMs = node["PublishingIntervalMs"].Int(1, int.MaxValue) ?? SourceDefaults.PublishingIntervalMs,
            Tags = ReadTags(node["Tags"], SourceType.OpcUa),
        };
    }

    /// <summary>Security.PkiDir: a folder path (created on first start); an existing file there is an error.</summary>
    private static string? ReadPkiDir(ConfigNode node)
    {
        var text = node.Name(required: false);
        if (text is null)
            return null;
        if (text.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            node.Error($"'{ConfigNode.Shorten(text)}' is not a valid path");
            return null;
        }

        if (File.Exists(text))
        {
            node.Error($"'{ConfigNode.Shorten(text)}' is a file; the PKI folder (own, trusted, issuers, rejected) must be a directory");
            return null;
        }

        return text;
    }

    /// <summary>A true / false flag (absent = false).</summary>
    private static bool ReadFlag(ConfigNode node)
    {
        var text = node.Text();
        if (text is null)
            return false;
        if (bool.TryParse(text, out var value))
            return value;
        node.Error($"'{ConfigNode.Shorten(text)}' is not true or false");
        return false;
    }

    private static string? ReadPolicy(ConfigNode node)
    {
        var text = node.Text();
        if (text is not null && DeprecatedPolicies.Contains(text, StringComparer.OrdinalIgnoreCase))
        {
            node.Error($"'{text}' is refused: deprecated by the OPC Foundation because it relies on SHA-1; use Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss");
            return null;
        }
        return node.OneOf(SecurityPolicies);
    }

    private SourceConfig ReadModbusTcp(ConfigNode node, string? name, SourceType type)
    {
        var host = ReadHost(node["Host"]);
        // Modbus/TCP has a registered port; RTU over TCP goes to whatever the converter listens on.
        var port = node["Port"].Int(1, 65535, required: type == SourceType.ModbusRtuOverTcp);
        if (type == SourceType.ModbusTcp)
            port ??= 502;
        return new SourceConfig
        {
            Name = name ?? "",
            Type = type,
            Host = host,
            TcpPort = port,
            PollMs = node["PollMs"].Int(1, int.MaxValue) ?? SourceDefaults.PollMs,
            TimeoutMs = node["TimeoutMs"].Int(1, int.MaxValue) ?? SourceDefaults.TimeoutMs,
            Tags = ReadTags(node["Tags"], type),
        };
    }

    private static string? ReadHost(ConfigNode node)
    {
        var host = node.Name();
        if (host is not null && (host.Contains("://", StringComparison.Ordinal) || host.Any(char.IsWhiteSpace)
            || Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown))
        {
            node.Error($"'{ConfigNode.Shorten(host)}' is not a host name or IP address (the port goes in Port)");
            return null;
        }
        return host;
    }

    private SourceConfig ReadModbusRtu(ConfigNode node, string? name)
    {
        var serial = ReadSerial(node, portRequired: true);
        return new SourceConfig
        {
            Name = name ?? "",
            Type = SourceType.ModbusRtu,
            SerialPort = serial.Port,
            Baud = serial.Baud,
            Parity = serial.Parity,
            DataBits = serial.DataBits,
            StopBits = serial.StopBits,
            PollMs = node["PollMs"].Int(1, int.MaxValue) ?? SourceDefaults.PollMs,
            TimeoutMs = node["TimeoutMs"].Int(1, int.MaxValue) ?? SourceDefaults.TimeoutMs,
            Tags = ReadTags(node["Tags"], SourceType.ModbusRtu),
        };
    }

    private static (string? Port, int Baud, SerialParity Parity, int DataBits, int StopBits) ReadSerial(ConfigNode node, bool portRequired)
    {
        var portNode = node["Port"];
        var port = portNode.Name(portRequired);
        if (port is not null && port.All(char.IsAsciiDigit))
        {
            portNode.Error($"'{port}' is a TCP port number; a {node["Type"].Text()} source's Port is a serial device such as /dev/ttyUSB0");
            port = null;
        }
        return (
            port,
            node["Baud"].Int(1200, 115200) ?? SourceDefaults.Baud,
            node["Parity"].Enum<SerialParity>() ?? SourceDefaults.Parity,
            node["DataBits"].Int(7, 8) ?? SourceDefaults.DataBits,
            node["StopBits"].Int(1, 2) ?? SourceDefaults.StopBits);
    }

    private static SourceConfig ReadScale(ConfigNode node, string? name)
    {
        var hasPort = node["Port"].Exists;
        var tcp = node["Tcp"].Name(required: false);
        if (hasPort && tcp is not null)
            node["Tcp"].Error("give either Port (a serial device) or Tcp (a serial-to-Ethernet converter), not both");
        else if (!hasPort && tcp is null && !node["Tcp"].Exists)
            node["Port"].Error("required: a serial device such as /dev/ttyS0, or instead \"Tcp\": \"host:port\" of a serial-to-Ethernet converter");
        if (tcp is not null && !IsHostPort(tcp))
        {
            node["Tcp"].Error($"'{ConfigNode.Shorten(tcp)}' is not host:port (e.g. 10.0.0.7:4001)");
            tcp = null;
        }
        var serial = ReadSerial(node, portRequired: false);

        return new SourceConfig
        {
            Name = name ?? "",
            Type = SourceType.Scale,
            SerialPort = serial.Port,
            Tcp = tcp,
            Baud = serial.Baud,
            Parity = serial.Parity,
            DataBits = serial.DataBits,
            StopBits = serial.StopBits,
            Protocol = node["Protocol"].OneOf(ScaleProtocolNames, required: true),
            Unit = node["Unit"].OneOf(ScaleUnits) ?? SourceDefaults.Unit,
            StableBandKg = node["StableBandKg"].Number(0) ?? SourceDefaults.StableBandKg,
            StableSeconds = node["StableSeconds"].Number(0) ?? SourceDefaults.StableSeconds,
            ZeroBandKg = node["ZeroBandKg"].Number(0) ?? SourceDefaults.ZeroBandKg,
            SilentSeconds = node["SilentSeconds"].Number(0, minExclusive: true) ?? SourceDefaults.SilentSeconds,
        };
    }

    private static bool IsHostPort(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            return false;
        var host = text[..colon].Trim('[', ']');
        return Uri.CheckHostName(host) != UriHostNameType.Unknown
            && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            && port is >= 1 and <= 65535;
    }

    /// <summary>
    /// A Recording source supplies every tag and scale its records name, so it needs no Tags; it may
    /// still describe some (Unit, Counter, physical limits) for the engine, as a device source does.
    /// </summary>
    private SourceConfig ReadRecording(ConfigNode node, string? name) => new()
    {
        Name = name ?? "",
        Type = SourceType.Recording,
        Path = node["Path"].Name(),
        Tags = ReadTags(node["Tags"], SourceType.Recording),
    };

    // ---- Tags ---------------------------------------------------------------------------------

    private List<TagConfig> ReadTags(ConfigNode node, SourceType? type)
    {
        var tags = new List<TagConfig>();
        foreach (var item in node.Items())
        {
            if (!item.IsObject())
                continue;
            if (ReadTag(item, type) is { } tag)
                tags.Add(tag);
        }
        return tags;
    }

    private TagConfig? ReadTag(ConfigNode node, SourceType? type)
    {
        var isOpcUa = type == SourceType.OpcUa;
        var isModbus = type is SourceType.ModbusTcp or SourceType.ModbusRtu or SourceType.ModbusRtuOverTcp;
        if (isOpcUa)
            node.AllowOnly(OpcUaTagKeys, ModbusTagKeys, "not used by an OpcUa tag (a Modbus key)");
        else if (isModbus)
            node.AllowOnly(ModbusTagKeys, OpcUaTagKeys, "not used by a Modbus tag (an OpcUa key)");
        else if (type == SourceType.Recording)
            node.AllowOnly(RecordingTagKeys, AllTagKeys, "not used by a Recording tag (its records carry the values; a tag here only describes Unit, Counter, Min and Max)");
        else
            node.AllowOnly(AllTagKeys);

        var name = node["Tag"].Name();
        var unit = node["Unit"].Text();
        if (name is not null)
        {
            if (_tags.TryGetValue(name, out var first))
                node["Tag"].Error($"'{name}' is already defined at {first.Path} (tag names are unique across sources)");
            else
                _tags[name] = (name, node.Path, unit);
        }

        string? nodeId = null;
        if (isOpcUa)
        {
            nodeId = node["NodeId"].RequiredText();
            if (nodeId is not null && !UaNodeId().IsMatch(nodeId))
            {
                node["NodeId"].Error($"'{ConfigNode.Shorten(nodeId)}' is not an OPC UA NodeId (e.g. ns=2;s=F1.GasTotal, nsu=http://…;s=…, i=2258)");
                nodeId = null;
            }
        }

        var area = node["Area"].Enum<ModbusArea>() ?? TagDefaults.Area;
        var dataType = node["DataType"].Enum<ModbusDataType>();
        var address = node["Address"].Int(0, 65535, required: isModbus);
        if (isModbus)
        {
            var bitArea = area is ModbusArea.Coil or ModbusArea.Discrete;
            // Coils and discrete inputs are single bits: the data type follows the area.
            dataType ??= bitArea ? ModbusDataType.Bit : TagDefaults.DataType;
            if (bitArea != (dataType == ModbusDataType.Bit))
                node["DataType"].Error(bitArea
                    ? $"'{dataType}' cannot be read from Area {area}: coils and discrete inputs are single bits (DataType Bit)"
                    : $"Bit is read from Area Coil or Discrete, not {area}");
            else if (address is int a && a + RegisterCount(dataType.Value) - 1 > 65535)
                node["Address"].Error($"{a} + {RegisterCount(dataType.Value)} registers of {dataType} run past 65535");
        }

        var min = node["Min"].Number();
        var max = node["Max"].Number();
        if (min is double lo && max is double hi && lo > hi)
            node["Max"].Error($"the physical limits are reversed: Min {lo.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is above Max {hi.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");

        var scale = node["Scale"].Number();
        if (scale == 0)
        {
            node["Scale"].Error("must not be 0 (every reading would be 0)");
            scale = null;
        }

        return new TagConfig
        {
            Tag = name ?? "",
            NodeId = nodeId,
            Unit = unit,
            Counter = ReadCounter(node["Counter"]),
            UnitId = node["UnitId"].Int(0, 247) ?? TagDefaults.UnitId,
            Area = area,
            Address = address ?? TagDefaults.Address,
            DataType = dataType ?? TagDefaults.DataType,
            WordOrder = node["WordOrder"].Enum<WordOrder>() ?? TagDefaults.WordOrder,
            Scale = scale ?? TagDefaults.Scale,
            Offset = node["Offset"].Number() ?? TagDefaults.Offset,
            Min = min,
            MaxValue = max,
        };
    }

    /// <summary>Registers (16-bit words) a value occupies; BCD is counted as its shortest form (one register).</summary>
    private static int RegisterCount(ModbusDataType type) => type switch
    {
        ModbusDataType.Int32 or ModbusDataType.UInt32 or ModbusDataType.Float32 or ModbusDataType.Bcd32 => 2,
        ModbusDataType.Bcd48 => 3,
        ModbusDataType.Int64 or ModbusDataType.UInt64 or ModbusDataType.Float64 => 4,
        _ => 1,
    };

    // ns=<index>; or nsu=<uri>; then i=, s=, g= or b= (OPC 10000-6 §5.3.1.10).
    [GeneratedRegex(@"^(ns=[0-9]+;|nsu=[^;]+;)?(i=[0-9]+|s=.+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/=]+)$", RegexOptions.Singleline)]
    private static partial Regex UaNodeId();

    private static CounterConfig? ReadCounter(ConfigNode node)
    {
        if (!node.Exists || !node.IsObject())
            return null;
        node.AllowOnly(["Max", "MaxRatePerHour"]);
        return new CounterConfig
        {
            Max = node["Max"].Number(0, minExclusive: true),
            MaxRatePerHour = node["MaxRatePerHour"].Number(0, minExclusive: true),
        };
    }
}
