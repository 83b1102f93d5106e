using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Live;

/// <summary>Outputs of the collector that reads a <see cref="LivePlant"/>.</summary>
public sealed record LiveConfigOptions
{
    /// <summary>MQTT broker URL; null = no MQTT (messages go to <c>&lt;DataDir&gt;/messages.jsonl</c>).</summary>
    public string? Broker { get; init; } = "mqtt://127.0.0.1:1883";

    /// <summary>MQTT client id.</summary>
    public string ClientId { get; init; } = "edge-sim";

    /// <summary>The collector's data dir.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>Dashboard / operations endpoints.</summary>
    public string DashboardUrls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>MaxHoldSeconds of the engine (simulated seconds).</summary>
    public int MaxHoldSeconds { get; init; } = 900;
}

/// <summary>
/// The collector configuration (contracts.md §1) that reads a running <see cref="LivePlant"/>: its
/// endpoints and ports, ticket-driven heats, the aux meter as a site meter, the factors of the
/// ground truth (<see cref="TruthFactors"/>). Poll and publishing intervals are wall time, chosen
/// so that the meters are read about once per simulated second at any speed.
/// </summary>
public static class LiveConfig
{
    /// <summary>The config as JSON text.</summary>
    public static string Json(LivePlant plant, LiveConfigOptions outputs)
    {
        ArgumentNullException.ThrowIfNull(plant);
        ArgumentNullException.ThrowIfNull(outputs);
        var o = plant.Options.Scenario;
        double speed = plant.Options.Speed;
        int cadenceMs = (int)Math.Clamp(Math.Round(1000 / speed), 10, 1000);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("Site");
            w.WriteString("Id", "sim");
            w.WriteString("Name", "Simulated melt shop (live plant)");
            w.WriteString("TimeZone", o.TimeZone);
            w.WriteStartArray("ShiftStarts");
            foreach (var s in o.ShiftStarts)
            {
                w.WriteStringValue(s.ToString("HH:mm", CultureInfo.InvariantCulture));
            }

            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartArray("Sources");
            // The furnace PLC: gas totalisers (a PLC totaliser wraps at 1e8 Nm3), state and heat number for the dashboard.
            w.WriteStartObject();
            w.WriteString("Name", "plc");
            w.WriteString("Type", "OpcUa");
            w.WriteString("Endpoint", plant.OpcUaEndpoint);
            w.WriteStartObject("Security");
            w.WriteString("Mode", "None");   // loopback only
            w.WriteEndObject();
            w.WriteNumber("PublishingIntervalMs", Math.Max(10, cadenceMs));
            w.WriteStartArray("Tags");
            foreach (string f in o.FurnaceIds)
            {
                Tag(w, f + ".GasTotal", NodeId(f, "GasTotal"), "Nm3", LivePlant.GasModulus);
                Tag(w, f + ".State", NodeId(f, "State"), null, null);
                Tag(w, f + ".HeatNo", NodeId(f, "HeatNo"), null, null);
            }

            w.WriteEndArray();
            w.WriteEndObject();

            // The power meters: Schneider PM5xxx, manual register 3204 = wire 3203, int64 Wh.
            w.WriteStartObject();
            w.WriteString("Name", "meters");
            w.WriteString("Type", "ModbusTcp");
            w.WriteString("Host", "127.0.0.1");
            w.WriteNumber("Port", plant.ModbusPort);
            w.WriteNumber("PollMs", cadenceMs);
            w.WriteNumber("TimeoutMs", 1000);
            w.WriteStartArray("Tags");
            for (int i = 0; i < o.Furnaces; i++)
            {
                ModbusTag(w, o.FurnaceIds[i] + ".PowerTotal", i + 1, 3203, "Int64", 0.001, null);
            }

            if (plant.AuxSerialPort is null)
            {
                ModbusTag(w, "Aux.PowerTotal", 100, 0, "UInt32", 0.01, LivePlant.AuxModulus);
            }

            w.WriteEndArray();
            w.WriteEndObject();

            if (plant.AuxSerialPort is { } pty)
            {
                // The site's auxiliary meter: Acrel DTSD1352 on RS-485 (a socat pty pair here), uint32 in 0.01 kWh.
                w.WriteStartObject();
                w.WriteString("Name", "aux-rtu");
                w.WriteString("Type", "ModbusRtu");
                w.WriteString("Port", pty);
                w.WriteNumber("Baud", 19200);
                w.WriteString("Parity", "None");
                w.WriteNumber("PollMs", Math.Max(20, cadenceMs));
                w.WriteNumber("TimeoutMs", 500);
                w.WriteStartArray("Tags");
                ModbusTag(w, "Aux.PowerTotal", 1, 0, "UInt32", 0.01, LivePlant.AuxModulus);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            foreach (string f in o.FurnaceIds)
            {
                foreach (var kind in Enum.GetValues<ScaleKind>())
                {
                    string name = ScenarioOptions.ScaleName(f, kind);
                    w.WriteStartObject();
                    w.WriteString("Name", name);
                    w.WriteString("Type", "Scale");
                    w.WriteString("Tcp", "127.0.0.1:" + plant.ScalePorts[name].ToString(CultureInfo.InvariantCulture));
                    w.WriteString("Protocol", LivePlant.ProtocolOf(kind));
                    w.WriteString("Unit", "kg");
                    w.WriteNumber("StableBandKg", o.StableBandKg);
                    w.WriteNumber("StableSeconds", o.StableSeconds);
                    w.WriteNumber("ZeroBandKg", o.ZeroBandKg);
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();

            w.WriteStartArray("Furnaces");
            foreach (string f in o.FurnaceIds)
            {
                w.WriteStartObject();
                w.WriteString("Id", f);
                w.WriteStartArray("Meters");
                w.WriteStartObject();
                w.WriteString("Tag", f + ".GasTotal");
                w.WriteString("Kind", "Fuel");
                w.WriteString("Fuel", "NaturalGas");
                w.WriteEndObject();
                w.WriteStartObject();
                w.WriteString("Tag", f + ".PowerTotal");
                w.WriteString("Kind", "Electricity");
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteStartArray("Scales");
                foreach (var kind in Enum.GetValues<ScaleKind>())
                {
                    w.WriteStartObject();
                    w.WriteString("Source", ScenarioOptions.ScaleName(f, kind));
                    w.WriteString("Role", kind.ToString());
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteString("DefaultMaterial", "PostConsumerOther");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("SiteMeters");
            w.WriteStartObject();
            w.WriteString("Tag", "Aux.PowerTotal");
            w.WriteString("Kind", "Electricity");
            w.WriteEndObject();
            w.WriteEndArray();

            w.WriteStartObject("Factors");
            w.WriteString("Set", TruthFactors.Set);
            w.WriteStartObject("Fuels");
            w.WriteStartObject("NaturalGas");
            w.WriteNumber("NcvGJPerNm3", TruthFactors.NcvGJPerNm3);
            w.WriteNumber("CarbonTCPerTJ", TruthFactors.CarbonTCPerTJ);
            w.WriteNumber("Oxidation", TruthFactors.Oxidation);
            w.WriteString("Source", "GB/T 32151.10-2023 table C.1 (the simulator's ground truth uses the same)");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("Electricity");
            w.WriteNumber("GridTCO2PerMWh", TruthFactors.GridTCO2PerMWh);
            w.WriteNumber("ResidualTCO2PerMWh", TruthFactors.GridTCO2PerMWh);
            w.WriteString("Source", "MEE national average 2022");
            w.WriteEndObject();
            w.WriteStartObject("MaterialYield");
            w.WriteNumber("Primary", 0.99);
            w.WriteNumber("PreConsumer", 0.97);
            w.WriteNumber("PostConsumerUbc", 0.90);
            w.WriteNumber("PostConsumerOther", 0.92);
            w.WriteNumber("Alloying", 1.0);
            w.WriteEndObject();
            w.WriteString("MaterialYieldSource", "simulated plant");
            w.WriteEndObject();

            w.WriteStartObject("Targets");
            w.WriteStartObject("IntensityTCO2ePerT");
            w.WriteNumber("2025", 0.79);
            w.WriteNumber("2026", 0.77);
            w.WriteNumber("2027", 0.75);
            w.WriteEndObject();
            w.WriteString("Source", "ASI 1.5 °C pathway tool v2, base year 2023");
            w.WriteEndObject();

            w.WriteStartObject("Engine");
            w.WriteNumber("MaxHoldSeconds", outputs.MaxHoldSeconds);
            w.WriteEndObject();

            if (outputs.Broker is { } broker)
            {
                w.WriteStartObject("Uplink");
                w.WriteStartObject("Mqtt");
                w.WriteString("Broker", broker);
                w.WriteString("ClientId", outputs.ClientId);
                w.WriteString("TopicPrefix", "edgecollector/v1");
                w.WriteString("ProtocolVersion", "5.0");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteStartObject("Storage");
            w.WriteString("DataDir", outputs.DataDir);
            w.WriteEndObject();
            w.WriteStartObject("Dashboard");
            w.WriteString("Urls", outputs.DashboardUrls);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string NodeId(string furnace, string tag) => $"nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_{furnace}\".\"{tag}\"";

    /// <summary>Far above any simulated rate: a restamped late reading must not look like a spike.</summary>
    private const double MaxRatePerHour = 1e7;

    private static void Tag(Utf8JsonWriter w, string tag, string nodeId, string? unit, double? counterMax)
    {
        w.WriteStartObject();
        w.WriteString("Tag", tag);
        w.WriteString("NodeId", nodeId);
        if (unit is not null)
        {
            w.WriteString("Unit", unit);
        }

        if (counterMax is double max)
        {
            w.WriteStartObject("Counter");
            w.WriteNumber("Max", max);
            w.WriteNumber("MaxRatePerHour", MaxRatePerHour);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void ModbusTag(Utf8JsonWriter w, string tag, int unit, int address, string type, double scale, double? counterMax)
    {
        w.WriteStartObject();
        w.WriteString("Tag", tag);
        w.WriteNumber("UnitId", unit);
        w.WriteString("Area", "Holding");
        w.WriteNumber("Address", address);
        w.WriteString("DataType", type);
        w.WriteString("WordOrder", "ABCD");
        w.WriteNumber("Scale", scale);
        w.WriteString("Unit", "kWh");
        w.WriteStartObject("Counter");
        if (counterMax is double max)
        {
            w.WriteNumber("Max", max);
        }

        w.WriteNumber("MaxRatePerHour", MaxRatePerHour);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
