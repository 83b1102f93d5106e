using System.Text.Json;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Host.Tests.Configuration;

[Collection(ConfigurationCollection.Name)]
public sealed class ShippedConfigTests
{
    [Theory]
    [InlineData("edgecollector.json")]
    [InlineData("demo.json")]
    public void Shipped_config_loads_without_errors(string file)
    {
        var result = ConfigLoader.Load(ConfigTestSupport.RepoPath("config", file));

        Assert.Empty(result.Errors);
        Assert.True(result.IsValid);
        Assert.NotNull(result.Config);
    }

    [Fact]
    public void No_path_loads_the_embedded_demo_which_is_config_demo_json()
    {
        var embedded = ConfigLoader.Load(null);
        var file = ConfigLoader.Load(ConfigTestSupport.RepoPath("config", "demo.json"));

        Assert.Empty(embedded.Errors);
        Assert.Equal("embedded demo.json", embedded.Origin);
        Assert.Equal(JsonSerializer.Serialize(file.Config), JsonSerializer.Serialize(embedded.Config));
    }

    [Fact]
    public void Demo_is_the_recorded_two_furnace_shop()
    {
        var config = ConfigLoader.Load(null).Config!;

        Assert.Equal("demo", config.Site.Id);
        Assert.Equal("Asia/Shanghai", config.Site.TimeZone);
        Assert.Equal([new TimeOnly(8, 0), new TimeOnly(16, 0), new TimeOnly(0, 0)], config.Site.ShiftStarts);
        var source = Assert.Single(config.Sources);
        Assert.Equal(("sample", SourceType.Recording, "config/sample-shift.jsonl"), (source.Name, source.Type, source.Path));
        Assert.Equal(["F1", "F2"], config.Furnaces.Select(f => f.Id));
        var f1 = config.Furnaces[0];
        Assert.Null(f1.StateTag);
        Assert.Null(f1.HeatNumberTag);
        Assert.Equal(Material.PostConsumerOther, f1.DefaultMaterial);
        Assert.Equal(
            [("F1-charge", ScaleRole.Charge), ("F1-tap", ScaleRole.Tap), ("F1-dross", ScaleRole.Dross)],
            f1.Scales.Select(s => (s.Source, s.Role)));
        Assert.Equal(
            [("F1.GasTotal", MeterKind.Fuel, "NaturalGas"), ("F1.PowerTotal", MeterKind.Electricity, null)],
            f1.Meters.Select(m => (m.Tag, m.Kind, m.Fuel)));
        Assert.Equal("Aux.PowerTotal", Assert.Single(config.SiteMeters).Tag);
        var rates = source.Tags.ToDictionary(t => t.Tag, t => t.Counter?.MaxRatePerHour);
        Assert.Equal(3000, rates["F2.GasTotal"]);
        Assert.Equal(5000, rates["F2.PowerTotal"]);
        Assert.Equal(2000, rates["Aux.PowerTotal"]);
        Assert.Equal("./data", config.Storage.DataDir);
        Assert.Null(config.Storage.Influx);
        Assert.Equal(("mqtt://127.0.0.1:1883", "edge-demo"), (config.Uplink.Mqtt!.Broker, config.Uplink.Mqtt.ClientId));
    }

    [Fact]
    public void Example_maps_contract_keys_onto_the_model()
    {
        var config = ConfigLoader.Load(ConfigTestSupport.RepoPath("config", "edgecollector.json")).Config!;

        var plc = config.Sources.Single(s => s.Name == "furnace-plc");
        Assert.Equal((SecurityMode.SignAndEncrypt, "Basic256Sha256"), (plc.SecurityMode, plc.SecurityPolicy));
        Assert.Equal(("collector", "PLC_PASSWORD"), (plc.UserName, plc.PasswordEnv));
        var gas = plc.Tags.Single(t => t.Tag == "F1.GasTotal");
        Assert.Equal((1e9, 3000.0), (gas.Counter!.Max, gas.Counter.MaxRatePerHour));
        var heel = plc.Tags.Single(t => t.Tag == "F1.HeelMass");
        Assert.Equal((0.0, 40000.0), (heel.Min, heel.MaxValue));

        var meters = config.Sources.Single(s => s.Name == "meters");
        Assert.Equal(("10.0.1.20", 502), (meters.Host, meters.TcpPort));
        Assert.Null(meters.SerialPort);
        var power = meters.Tags.Single(t => t.Tag == "F1.PowerTotal");
        Assert.Equal((ModbusArea.Holding, 3203, ModbusDataType.Int64, WordOrder.ABCD, 0.001), (power.Area, power.Address, power.DataType, power.WordOrder, power.Scale));

        var rtu = config.Sources.Single(s => s.Name == "meters-rtu");
        Assert.Equal(("/dev/ttyUSB0", (int?)null, SerialParity.Even), (rtu.SerialPort, rtu.TcpPort, rtu.Parity));
        Assert.Equal("10.0.1.31:4001", config.Sources.Single(s => s.Name == "ladle-scale-1").Tcp);

        var f2Gas = config.Furnaces[1].Meters[0];
        Assert.Equal((VolumeBasis.Actual, "F2.GasP", "F2.GasT", 121.3, 15.0), (f2Gas.Volume, f2Gas.PressureTag, f2Gas.TemperatureTag, f2Gas.PressureKPa, f2Gas.TemperatureC));
        Assert.Null(config.Furnaces[1].HeelMassTag);

        var ng = config.Factors.Fuels["NaturalGas"];
        Assert.Equal((0.038931, 15.30, 0.99), (ng.NcvGJPerNm3, ng.CarbonTCPerTJ, ng.Oxidation));
        Assert.Contains("GB/T 32151", ng.Source, StringComparison.Ordinal);
        Assert.Equal((0.5366, (double?)0.5856), (config.Factors.Electricity.GridTCO2PerMWh, config.Factors.Electricity.ResidualTCO2PerMWh));
        Assert.Equal(0.92, config.Factors.MaterialYield[Material.PostConsumerOther]);
        Assert.Equal(0.79, config.Targets.IntensityTCO2ePerT[2025]);
        Assert.Equal(0.71, config.Targets.IntensityTCO2ePerT[2030]);
        Assert.Equal(185000, config.Targets.ScrapUseT[2026]);
        Assert.Equal(("v2", "plant", "edge", "INFLUX_TOKEN", (string?)null),
            (config.Storage.Influx!.Api, config.Storage.Influx.Org, config.Storage.Influx.Bucket, config.Storage.Influx.TokenEnv, config.Storage.Influx.Database));
    }
}
