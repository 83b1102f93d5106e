using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeCollector.Configuration;
using Microsoft.Extensions.Configuration;
using static EdgeCollector.Host.Tests.Configuration.ConfigTestSupport;

namespace EdgeCollector.Host.Tests.Configuration;

[Collection(ConfigurationCollection.Name)]
public sealed class ScaleAndApiTests
{
    [Fact]
    public void Tens_of_thousands_of_tags_validate_in_seconds()
    {
        // product.md "Scale": up to tens of thousands of tags on a small industrial PC.
        var json = new StringBuilder("""{ "Site": { "Id": "big", "TimeZone": "UTC" }, "Factors": { "Set": "t" }, "Sources": [""");
        for (var s = 0; s < 40; s++)
        {
            json.Append(CultureInfo.InvariantCulture, $$"""{ "Name": "m{{s}}", "Type": "ModbusTcp", "Host": "10.0.{{s}}.1", "Tags": [""");
            for (var t = 0; t < 500; t++)
                json.Append(CultureInfo.InvariantCulture, $$"""{ "Tag": "m{{s}}.t{{t}}", "UnitId": 1, "Address": {{t * 2}}, "DataType": "Float32", "WordOrder": "CDAB", "Unit": "kWh", "Counter": { "MaxRatePerHour": 5000 } },""");
            json.Append("]},");
        }
        json.Append("]}");

        var watch = Stopwatch.StartNew();
        var result = LoadJson(json.ToString());
        watch.Stop();

        Assert.Empty(result.Errors);
        Assert.Equal(20_000, result.Config!.Sources.Sum(s => s.Tags.Count));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Read_accepts_any_IConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(RepoPath("config", "demo.json"))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Site:Name"] = "from memory" })
            .Build();

        var result = ConfigReader.Read(configuration, "host");

        Assert.Empty(result.Errors);
        Assert.Equal(("host", "from memory"), (result.Origin, result.Config!.Site.Name));
    }

    [Fact]
    public void A_duplicate_json_key_is_an_error()
    {
        var result = LoadJson("""{ "Site": { "Id": "a", "Id": "b", "TimeZone": "UTC" } }""");

        Assert.Contains("Site:Id", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void More_cross_checks()
    {
        var result = LoadJson(ValidJson, new Dictionary<string, string?>
        {
            // a second furnace taking the same scale
            ["Furnaces:1:Id"] = "F2",
            ["Furnaces:1:Scales:0:Source"] = "charge",
            ["Furnaces:1:Scales:0:Role"] = "Charge",
            // a second furnace with the same id, differing only by case
            ["Furnaces:2:Id"] = "f1",
            // RTU over TCP has no default port
            ["Sources:3:Name"] = "gw",
            ["Sources:3:Type"] = "ModbusRtuOverTcp",
            ["Sources:3:Host"] = "10.0.0.9",
            // MQTT 3.1.1 sends no password without a user name
            ["Uplink:Mqtt:ProtocolVersion"] = "3.1.1",
            ["Uplink:Mqtt:PasswordEnv"] = "MQTT_PASSWORD",
            // a scale with both a serial port and a converter
            ["Sources:2:Tcp"] = "10.0.0.7:4001",
        });

        Assert.Equal(
            [
                "Sources[2].Tcp: give either Port (a serial device) or Tcp (a serial-to-Ethernet converter), not both",
                "Sources[3].Port: required",
                "Furnaces[1].Scales[0].Source: 'charge' is already assigned at Furnaces[0].Scales[0].Source: a scale weighs for one furnace",
                "Furnaces[2].Id: 'f1' is already the Id of Furnaces[0]",
                "Uplink.Mqtt.PasswordEnv: MQTT 3.1.1 sends no password without a user name [MQTT-3.1.2-22]: set User too",
            ],
            result.Errors);
    }
}
