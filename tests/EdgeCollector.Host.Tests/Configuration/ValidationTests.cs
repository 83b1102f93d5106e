using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using static EdgeCollector.Host.Tests.Configuration.ConfigTestSupport;

namespace EdgeCollector.Host.Tests.Configuration;

[Collection(ConfigurationCollection.Name)]
public sealed class ValidationTests
{
    [Fact]
    public void The_test_baseline_is_valid()
    {
        var result = LoadJson(ValidJson);

        Assert.Empty(result.Errors);
        Assert.Equal([new TimeOnly(6, 0), new TimeOnly(18, 0)], result.Config!.Site.ShiftStarts);
        Assert.Equal(WordOrder.CDAB, result.Config.Sources[1].Tags[0].WordOrder);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_its_path()
    {
        const string json = """
            {
              "Site": { "Id": "t", "TimeZone": "Mars/Olympus_Mons" },
              "Sources": [
                { "Name": "plc", "Type": "OpcUa", "Endpoint": "opc.tcp://127.0.0.1:4840",
                  "Security": { "Mode": "SignAndEncrypt", "Policy": "Basic256" },
                  "Tags": [ { "Tag": "F1.State", "NodeId": "ns=2;s=F1.State" } ] },
                { "Name": "meters", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": 502,
                  "Tags": [ { "Tag": "F1.GasTotal", "Address": 0, "DataType": "UInt32", "WordOrder": "ACBD", "Unit": "Nm3" } ] },
                { "Name": "plc", "Type": "Scale", "Port": "/dev/ttyS0", "Protocol": "XK3190-A9" }
              ],
              "Furnaces": [ { "Id": "F1", "StateTag": "F1.State",
                "Meters": [ { "Tag": "F1.GasTotal", "Kind": "Fuel", "Fuel": "Coal" },
                            { "Tag": "F1.PowerTotal", "Kind": "Electricity" } ] } ],
              "Factors": { "Set": "t",
                "Fuels": { "NaturalGas": { "NcvGJPerNm3": 0.038931, "CarbonTCPerTJ": 15.3, "Source": "s" } },
                "Electricity": { "GridTCO2PerMWh": 0.5366, "GreenKwhShar": 0.1, "Source": "s" } }
            }
            """;

        var result = LoadJson(json);

        Assert.Null(result.Config);
        Assert.Contains("Sources[1].Tags[0].WordOrder: 'ACBD' is not one of ABCD, CDAB, BADC, DCBA", result.Errors);
        string[] paths =
        [
            "Site.TimeZone: 'Mars/Olympus_Mons' is not a time zone",
            "Sources[0].Security.Policy: 'Basic256' is refused: deprecated",
            "Sources[1].Tags[0].WordOrder: 'ACBD'",
            "Sources[2].Name: 'plc' is already the name of Sources[0]",
            "Factors.Electricity.GreenKwhShar: unknown key (did you mean 'GreenKWhShare'?)",
            "Furnaces[0].Meters[0].Fuel: 'Coal' is not defined in Factors.Fuels (NaturalGas)",
            "Furnaces[0].Meters[1].Tag: 'F1.PowerTotal' is not a tag defined in any source's Tags",
        ];
        foreach (var expected in paths)
            Assert.Single(result.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        Assert.Equal(paths.Length, result.Errors.Count);
        Assert.Contains("SHA-1", result.Errors.Single(e => e.Contains("Basic256", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    // Site and enums
    [InlineData("\"Id\": \"t\"", "\"Id\": \"a/b\"", "Site.Id: 'a/b' cannot be used as an MQTT topic level")]
    [InlineData("\"Site\": { \"Id\": \"t\", ", "\"Site\": { ", "Site.Id: required")]
    [InlineData("\"06:00\"", "\"6:00\"", "Site.ShiftStarts[0]: '6:00' is not a local time \"HH:mm\"")]
    [InlineData("\"18:00\"", "\"06:00\"", "Site.ShiftStarts[1]: '06:00' is listed twice")]
    [InlineData("\"Type\": \"ModbusTcp\"", "\"Type\": \"modbusTcp\"", "Sources[1].Type: 'modbusTcp' is not one of OpcUa, ModbusTcp, ModbusRtu, ModbusRtuOverTcp, Scale, Recording (spelling is case-sensitive: 'ModbusTcp')")]
    [InlineData("\"Kind\": \"Electricity\"", "\"Kind\": \"Power\"", "Furnaces[0].Meters[1].Kind: 'Power' is not one of Fuel, Electricity")]
    [InlineData("\"Role\": \"Charge\"", "\"Role\": 1", "Furnaces[0].Scales[0].Role: '1' is not one of Charge, Tap, Dross")]
    // Numbers and ranges
    [InlineData("\"Port\": 502", "\"Port\": 70000", "Sources[1].Port: 70000 is out of range 1..65535")]
    [InlineData("\"Port\": 502", "\"Port\": \"502x\"", "Sources[1].Port: '502x' is not a whole number")]
    [InlineData("\"Address\": 2,", "\"Address\": 65535,", "Sources[1].Tags[1].Address: 65535 + 2 registers of Float32 run past 65535")]
    [InlineData("\"Address\": 2,", "\"Address\": 2, \"UnitId\": 248,", "Sources[1].Tags[1].UnitId: 248 is out of range 0..247")]
    [InlineData("\"Address\": 2,", "\"Address\": 2, \"Area\": \"Coil\",", "Sources[1].Tags[1].DataType: 'Float32' cannot be read from Area Coil")]
    [InlineData("\"Port\": \"/dev/ttyS0\",", "\"Port\": \"/dev/ttyS0\", \"Baud\": 300,", "Sources[2].Baud: 300 is out of range 1200..115200")]
    [InlineData("\"Port\": \"/dev/ttyS0\",", "\"Port\": \"/dev/ttyS0\", \"DataBits\": 9, \"StopBits\": 1.5,", "Sources[2].DataBits: 9 is out of range 7..8", "Sources[2].StopBits: '1.5' is not a whole number")]
    [InlineData("\"Port\": \"/dev/ttyS0\",", "\"Port\": 4001,", "Sources[2].Port: '4001' is a TCP port number")]
    [InlineData("\"Oxidation\": 0.99", "\"Oxidation\": 1.2", "Factors.Fuels.NaturalGas.Oxidation: 1.2 is out of range 0..1")]
    [InlineData("\"CarbonTCPerTJ\": 15.3", "\"CarbonTCPerTJ\": -1", "Factors.Fuels.NaturalGas.CarbonTCPerTJ: -1 must be at least 0")]
    [InlineData("\"GridTCO2PerMWh\": 0.5366,", "\"GridTCO2PerMWh\": 0.5366, \"GreenKWhShare\": 1.5,", "Factors.Electricity.GreenKWhShare: 1.5 is out of range 0..1")]
    [InlineData("\"PostConsumerOther\": 0.92", "\"PostConsumerOther\": 1.01", "Factors.MaterialYield.PostConsumerOther: 1.01 is out of range 0..1")]
    [InlineData("\"PostConsumerOther\": 0.92", "\"Scrap\": 0.92", "Factors.MaterialYield.Scrap: 'Scrap' is not one of Primary", "Factors.MaterialYield: needs PostConsumerOther")]
    [InlineData("\"Unit\": \"Nm3\"", "\"Unit\": \"Nm3\", \"Min\": 10, \"Max\": 1", "Sources[1].Tags[0].Max: the physical limits are reversed: Min 10 is above Max 1")]
    // Unknown keys
    [InlineData("\"WordOrder\": \"CDAB\"", "\"WordOder\": \"CDAB\"", "Sources[1].Tags[0].WordOder: unknown key (did you mean 'WordOrder'?)")]
    [InlineData("\"Port\": 502,", "\"Port\": 502, \"Baud\": 9600,", "Sources[1].Baud: not used by a ModbusTcp source")]
    [InlineData("\"Address\": 2,", "\"Address\": 2, \"NodeId\": \"ns=2;s=X\",", "Sources[1].Tags[1].NodeId: not used by a Modbus tag")]
    [InlineData("\"Endpoint\"", "\"SecurityMode\": \"None\", \"Endpoint\"", "Sources[0].SecurityMode: unknown key (write \"Security\": { \"Mode\": … })")]
    [InlineData("\"Furnaces\"", "\"Furnace\": [], \"Furnaces\"", "Furnace: unknown key (did you mean 'Furnaces'?)")]
    // OPC UA
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"None\", \"Policy\": \"Basic256Sha256\" }", "Sources[0].Security.Policy: 'Basic256Sha256' needs Mode Sign or SignAndEncrypt")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"Sign\" }", "Sources[0].Security.Policy: required with Mode Sign")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"Sign\", \"Policy\": \"Basic128Rsa15\" }", "Sources[0].Security.Policy: 'Basic128Rsa15' is refused: deprecated")]
    [InlineData("\"Security\": { \"Mode\": \"None\" },", "", "Sources[0].Security: required")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"Sign\", \"Policy\": \"Basic256Sha256\", \"AutoAcceptUntrusted\": \"yes\" }", "Sources[0].Security.AutoAcceptUntrusted: 'yes' is not true or false")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"None\", \"AutoAcceptUntrusted\": true }", "Sources[0].Security.AutoAcceptUntrusted: only applies with Mode Sign or SignAndEncrypt")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"Sign\", \"Policy\": \"Basic256Sha256\", \"PkiDir\": \" pki\" }", "Sources[0].Security.PkiDir: ' pki' has leading or trailing white space")]
    [InlineData("\"Security\": { \"Mode\": \"None\" }", "\"Security\": { \"Mode\": \"Sign\", \"Policy\": \"Basic256Sha256\", \"PkiDri\": \"pki\" }", "Sources[0].Security.PkiDri: unknown key (did you mean 'PkiDir'?)")]
    [InlineData("\"Endpoint\": \"opc.tcp://127.0.0.1:4840\",", "", "Sources[0].Endpoint: required")]
    [InlineData("\"NodeId\": \"ns=2;s=F1.State\"", "\"NodeId\": \"F1.State\"", "Sources[0].Tags[0].NodeId: 'F1.State' is not an OPC UA NodeId")]
    [InlineData("\"NodeId\": \"ns=2;s=F1.State\"", "\"Unit\": \"\"", "Sources[0].Tags[0].NodeId: required")]
    // Cross-references
    [InlineData("\"StateTag\": \"F1.State\"", "\"StateTag\": \"F1.state\"", "Furnaces[0].StateTag: 'F1.state' is not a defined tag (did you mean 'F1.State' at Sources[0].Tags[0]?")]
    [InlineData("\"StateTag\": \"F1.State\"", "\"HeelMassTag\": \"F1.Heel\"", "Furnaces[0].HeelMassTag: 'F1.Heel' is not a tag defined in any source's Tags")]
    [InlineData("\"Source\": \"charge\"", "\"Source\": \"meters\"", "Furnaces[0].Scales[0].Source: 'meters' is a ModbusTcp source (Sources[1]), not a Scale")]
    [InlineData("\"Source\": \"charge\"", "\"Source\": \"ladle\"", "Furnaces[0].Scales[0].Source: 'ladle' is not the Name of any Scale source")]
    [InlineData("\"Source\": \"charge\", \"Role\": \"Charge\" }", "\"Source\": \"charge\", \"Role\": \"Charge\" }, { \"Source\": \"charge\", \"Role\": \"Tap\" }", "Furnaces[0].Scales[1].Source: 'charge' is already assigned at Furnaces[0].Scales[0].Source")]
    [InlineData("\"Id\": \"F1\"", "\"Id\": \"site\"", "Furnaces[0].Id: 'site' is reserved")]
    [InlineData("\"Tag\": \"F1.PowerTotal\", \"Address\"", "\"Tag\": \"f1.gastotal\", \"Address\"", "Sources[1].Tags[1].Tag: 'f1.gastotal' is already defined at Sources[1].Tags[0]", "Furnaces[0].Meters[1].Tag: 'F1.PowerTotal' is not a tag defined")]
    [InlineData("\"Unit\": \"kWh\"", "\"Unit\": \"kW\"", "Furnaces[0].Meters[1].Tag: 'F1.PowerTotal' is read in 'kW' (Sources[1].Tags[1].Unit)")]
    [InlineData("\"Kind\": \"Electricity\" }", "\"Kind\": \"Electricity\", \"Fuel\": \"NaturalGas\" }", "Furnaces[0].Meters[1].Fuel: only used by a meter of Kind Fuel")]
    [InlineData("\"Fuel\": \"NaturalGas\" }", "\"Fuel\": \"NaturalGas\", \"PressureTag\": \"F1.State\" }", "Furnaces[0].Meters[0].PressureTag: not used with Volume Standard")]
    [InlineData("\"Fuel\": \"NaturalGas\" }", "\"Fuel\": \"NaturalGas\" }, { \"Tag\": \"F1.GasTotal\", \"Kind\": \"Fuel\", \"Fuel\": \"NaturalGas\" }", "Furnaces[0].Meters[1].Tag: 'F1.GasTotal' is already metered at Furnaces[0].Meters[0]")]
    [InlineData("\"Electricity\": { \"GridTCO2PerMWh\": 0.5366, \"Source\": \"s\" },", "", "Factors.Electricity: required: Furnaces[0].Meters[1] measures electricity")]
    public void Each_rule_names_the_bad_key(string find, string replace, params string[] expected)
    {
        Assert.Contains(find, ValidJson, StringComparison.Ordinal);
        var json = ReplaceFirst(ValidJson, find, replace);

        var result = LoadJson(json);

        Assert.Null(result.Config);
        foreach (var message in expected)
            Assert.True(result.Errors.Count(e => e.StartsWith(message, StringComparison.Ordinal)) == 1,
                $"expected one error starting with\n  {message}\ngot\n  {string.Join("\n  ", result.Errors)}");
        Assert.Equal(expected.Length, result.Errors.Count);
    }

    [Theory]
    [InlineData("Uplink:Mqtt:Broker", "http://broker:1883", "Uplink.Mqtt.Broker: 'http://broker:1883' is not an mqtt://host:port or mqtts://host:port URL")]
    [InlineData("Uplink:Mqtt:ProtocolVersion", "3.1", "Uplink.Mqtt.ProtocolVersion: '3.1' is not one of 3.1.1, 5.0")]
    [InlineData("Uplink:Mqtt:TopicPrefix", "edge/#", "Uplink.Mqtt.TopicPrefix: 'edge/#' is not a topic prefix")]
    [InlineData("Uplink:Mqtt:CaFile", "ca.pem", "Uplink.Mqtt.CaFile: the broker's CA certificate is only used with an mqtts:// broker")]
    [InlineData("Storage:Influx:Url", "http://127.0.0.1:8086", "Storage.Influx.Org: required", "Storage.Influx.Bucket: required")]
    [InlineData("Engine:MaxHoldSeconds", "-1", "Engine.MaxHoldSeconds: -1 must be at least 0")]
    [InlineData("Dashboard:Urls", "127.0.0.1:8080", "Dashboard.Urls: '127.0.0.1:8080' is not an http:// or https:// URL")]
    [InlineData("Targets:IntensityTCO2ePerT:2026", "0.77", "Targets.Source: required")]
    [InlineData("Targets:ScrapUseT:next", "1", "Targets.ScrapUseT.next: 'next' is not a year", "Targets.Source: required")]
    [InlineData("Sources:1:PollMs", "0", "Sources[1].PollMs: 0 is out of range 1..2147483647")]
    [InlineData("Engine", "5", "Engine: expected an object, found the value '5'")]
    [InlineData("Site:ShiftStarts", "08:00", "Site.ShiftStarts: holds keys and also the value '08:00' (from an override?)")]
    [InlineData("Sources:1:Tags:0:Counter:Max", "0", "Sources[1].Tags[0].Counter.Max: 0 must be greater than 0")]
    public void Sections_without_a_baseline_key_are_checked_too(string key, string value, params string[] expected)
    {
        var result = LoadJson(ValidJson, new Dictionary<string, string?> { [key] = value });

        foreach (var message in expected)
            Assert.Single(result.Errors, e => e.StartsWith(message, StringComparison.Ordinal));
        Assert.Equal(expected.Length, result.Errors.Count);
    }

    [Fact]
    public void Influx_v1_needs_a_database_and_no_bucket()
    {
        var result = LoadJson(ValidJson, new Dictionary<string, string?>
        {
            ["Storage:Influx:Url"] = "http://127.0.0.1:8086",
            ["Storage:Influx:Api"] = "v1",
            ["Storage:Influx:Bucket"] = "edge",
        });

        Assert.Equal(
            ["Storage.Influx.Database: required", "Storage.Influx.Bucket: only used with Api v2 (v1 writes to a Database)"],
            result.Errors.Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public void An_env_key_holding_a_secret_is_refused_without_echoing_it()
    {
        var result = LoadJson(ValidJson, new Dictionary<string, string?>
        {
            ["Uplink:Mqtt:PasswordEnv"] = "hunter2 is my password",
            ["Dashboard:TokenEnv"] = "EDGE_DASHBOARD_TOKEN",
        });

        Assert.Equal(2, result.Errors.Count);
        var secret = Assert.Single(result.Errors, e => e.StartsWith("Uplink.Mqtt.PasswordEnv: ", StringComparison.Ordinal));
        Assert.Contains("contains spaces", secret, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", secret, StringComparison.Ordinal);
        Assert.Single(result.Errors, e => e.StartsWith("Dashboard.TokenEnv: 'EDGE_DASHBOARD_TOKEN' starts with EDGE_", StringComparison.Ordinal));
    }

    [Fact]
    public void A_recording_source_supplies_any_tag_and_scale()
    {
        const string json = """
            {
              "Site": { "Id": "t", "TimeZone": "Europe/Berlin" },
              "Sources": [ { "Name": "rec", "Type": "Recording", "Path": "x.jsonl" } ],
              "Furnaces": [ { "Id": "F1", "StateTag": "F1.State", "HeatNumberTag": "F1.HeatNo",
                "Meters": [ { "Tag": "F1.PowerTotal", "Kind": "Electricity" } ],
                "Scales": [ { "Source": "F1-tap", "Role": "Tap" } ] } ],
              "Factors": { "Set": "t", "Electricity": { "GridTCO2PerMWh": 0.5, "Source": "s" } }
            }
            """;

        var result = LoadJson(json);

        Assert.Empty(result.Errors);
        Assert.Equal("F1-tap", result.Config!.Furnaces[0].Scales[0].Source);
    }

    [Fact]
    public void A_recording_tag_only_describes()
    {
        const string json = """
            {
              "Site": { "Id": "t", "TimeZone": "UTC" },
              "Sources": [ { "Name": "rec", "Type": "Recording", "Path": "x.jsonl",
                             "Tags": [ { "Tag": "A", "Unit": "kWh", "Address": 3 } ] } ],
              "Factors": { "Set": "t" }
            }
            """;

        var result = LoadJson(json);

        Assert.Equal(["Sources[0].Tags[0].Address: not used by a Recording tag (its records carry the values; a tag here only describes Unit, Counter, Min and Max)"], result.Errors);
    }

    [Fact]
    public void Coils_default_to_bits_and_the_modbus_tcp_port_to_502()
    {
        var result = LoadJson(ValidJson, new Dictionary<string, string?>
        {
            ["Sources:1:Port"] = "",
            ["Sources:1:Tags:2:Tag"] = "F1.Door",
            ["Sources:1:Tags:2:Area"] = "Coil",
            ["Sources:1:Tags:2:Address"] = "7",
        });

        Assert.Empty(result.Errors);
        Assert.Equal(502, result.Config!.Sources[1].TcpPort);
        Assert.Equal(ModbusDataType.Bit, result.Config.Sources[1].Tags[2].DataType);
    }

    [Fact]
    public void Missing_file_and_bad_json_are_one_error_each()
    {
        var missing = ConfigLoader.Load("no/such/edgecollector.json");
        Assert.StartsWith("no/such/edgecollector.json: configuration file not found", Assert.Single(missing.Errors), StringComparison.Ordinal);

        var broken = LoadJson("{ \"Site\": { \"Id\": \"t\" ");
        Assert.Contains("not valid JSON", Assert.Single(broken.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Paths_use_index_brackets()
    {
        Assert.Equal("Sources[1].Tags[0].WordOrder", ConfigNode.FormatPath("Sources:1:Tags:0:WordOrder"));
        Assert.Equal("Targets.IntensityTCO2ePerT[2026]", ConfigNode.FormatPath("Targets:IntensityTCO2ePerT:2026"));
        Assert.Equal("Site", ConfigNode.FormatPath("Site"));
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, at), replace, text.AsSpan(at + find.Length));
    }
}
