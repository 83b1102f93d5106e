using EdgeCollector.Core.Engine;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.Host.Tests.Sources;

/// <summary>The OPC UA source plugin against the furnace-PLC simulator (PLC namespace resolved by URI).</summary>
[Trait("Category", "Integration")]
public sealed class OpcUaSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-opcua-").FullName;

    [Fact]
    public async Task Records_PLC_tags_by_namespace_uri_and_re_reports_unchanged_values()
    {
        await using var plc = new FurnacePlcSimulator(new FurnacePlcOptions { Furnaces = ["F1"], TimeScale = 60 });
        await plc.StartAsync();
        string config = Path.Combine(_dir, "plc.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Site": { "Id": "t", "Name": "test", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
              "Sources": [
                { "Name": "plc", "Type": "OpcUa", "Endpoint": "{{plc.EndpointUrl}}", "Security": { "Mode": "None" }, "PublishingIntervalMs": 200,
                  "Tags": [
                    { "Tag": "F1.GasTotal", "NodeId": "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"GasTotal\"", "Unit": "Nm3",
                      "Counter": { "MaxRatePerHour": 1000000 } },
                    { "Tag": "F1.HeatNo", "NodeId": "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"HeatNo\"" } ] }
              ],
              "Furnaces": [ { "Id": "F1", "HeatNumberTag": "F1.HeatNo", "Meters": [ { "Tag": "F1.GasTotal", "Kind": "Fuel", "Fuel": "NaturalGas" } ] } ],
              "Factors": { "Set": "t", "Fuels": { "NaturalGas": { "NcvGJPerNm3": 0.038931, "CarbonTCPerTJ": 15.3, "Oxidation": 0.99, "Source": "GB/T 32151" } } },
              "Storage": { "DataDir": "data" }
            }
            """);
        var check = await CollectorProcess.RunAsync(_dir, "check-config", "--config", config);
        Assert.True(check.ExitCode == 0, check.Stderr);

        string recording = Path.Combine(_dir, "rec.jsonl");
        using (var record = CollectorProcess.Start(_dir, "record", "--config", config, "--out", recording))
        {
            plc.SetState("F1", Sim.OpcUa.FurnaceState.Melting);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.False(record.HasExited, record.Stderr);
            Assert.Equal(0, await record.StopAsync(TimeSpan.FromSeconds(15)));
        }

        var records = File.ReadLines(recording).Select(RecordCodec.Parse).OfType<TagRecord>().ToList();
        var gas = records.Where(r => r.Tag == "F1.GasTotal" && r.Quality == SampleQuality.Good).ToList();
        Assert.True(gas.Count >= 5, $"{gas.Count} gas readings");
        Assert.True(gas[^1].Value > gas[0].Value, "the totaliser should rise while melting");
        // HeatNo does not change: it is re-reported with fresh timestamps, so windows are never held back.
        var heat = records.Where(r => r.Tag == "F1.HeatNo").ToList();
        Assert.True(heat.Count >= 5, $"{heat.Count} heat-number readings");
        Assert.Single(heat.Select(h => h.Value).Distinct());
        Assert.True(heat[^1].Ticks - heat[0].Ticks >= TimeSpan.FromSeconds(2).Ticks);
    }

    [Fact]
    public async Task Opcua_browse_and_read_commission_a_PLC()
    {
        await using var plc = new FurnacePlcSimulator(new FurnacePlcOptions { Furnaces = ["F1"] });
        await plc.StartAsync();
        var browse = await CollectorProcess.RunAsync(_dir, "opcua", "browse", plc.EndpointUrl);
        Assert.True(browse.ExitCode == 0, browse.Stderr);
        Assert.Contains("Server", browse.Stdout, StringComparison.Ordinal);
        var read = await CollectorProcess.RunAsync(_dir, "opcua", "read", plc.EndpointUrl,
            "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"HeatNo\"", "nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"GasTotal\"");
        Assert.True(read.ExitCode == 0, read.Stderr);
        var lines = read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.Contains("Good", l, StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
