using System.Globalization;
using System.Net;
using EdgeCollector.Core.Engine;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.Modbus;
using EdgeCollector.Scales;
using EdgeCollector.Sim.Modbus;
using EdgeCollector.Sim.Scales;

namespace EdgeCollector.Host.Tests.Sources;

/// <summary>
/// The Modbus and Scale source plugins wired end to end: the real program reads a simulated
/// PM5xxx power meter over Modbus TCP and a Toledo indicator behind a serial-to-Ethernet converter,
/// records what it accepted, and the recording replays to exactly the tickets that were weighed.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DeviceSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-devices-").FullName;

    [Fact]
    public async Task Modbus_read_prints_the_meter_register()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(1234.567);
        await using var slave = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, 0)).Start();
        var r = await CollectorProcess.RunAsync(_dir, "modbus", "read", "--host", "127.0.0.1", "--port",
            slave.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture), "--address", "3203", "--type", "Int64");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("Holding:3203\t1234567", r.Stdout.Trim());
    }

    [Fact]
    public async Task Recorded_meter_and_scale_readings_replay_to_the_weighed_tickets()
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(5000);
        await using var slave = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, 0)).Start();
        await using var converter = new ScaleTcpConverter();
        var simulator = new ScaleSimulator(ScaleProtocols.Create("Toledo-Continuous"), new ScaleSimulatorOptions { FrameRateHz = 20, CorruptPercent = 10 });
        var samples = ScaleScenario.Loads([8000m, 9000m]);

        string config = Path.Combine(_dir, "plant.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Site": { "Id": "t", "Name": "test", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
              "Sources": [
                { "Name": "meters", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": {{slave.LocalEndPoint.Port}}, "PollMs": 200, "TimeoutMs": 500,
                  "Tags": [ { "Tag": "F1.PowerTotal", "UnitId": 1, "Area": "Holding", "Address": 3203, "DataType": "Int64", "Scale": 0.001, "Unit": "kWh",
                              "Counter": { "MaxRatePerHour": 100000 } } ] },
                { "Name": "F1-charge", "Type": "Scale", "Tcp": "{{converter.HostPort}}", "Protocol": "Toledo-Continuous", "Unit": "kg",
                  "StableBandKg": 2, "StableSeconds": 0.3, "ZeroBandKg": 5 }
              ],
              "Furnaces": [ { "Id": "F1", "Meters": [ { "Tag": "F1.PowerTotal", "Kind": "Electricity" } ],
                              "Scales": [ { "Source": "F1-charge", "Role": "Charge" } ], "DefaultMaterial": "PostConsumerOther" } ],
              "Factors": { "Set": "t", "Electricity": { "GridTCO2PerMWh": 0.5366, "Source": "MEE 2024 No. 33" },
                           "MaterialYield": { "Primary": 0.99, "PreConsumer": 0.97, "PostConsumerUbc": 0.90, "PostConsumerOther": 0.92 },
                           "MaterialYieldSource": "test" },
              "Storage": { "DataDir": "data" }
            }
            """);
        var check = await CollectorProcess.RunAsync(_dir, "check-config", "--config", config);
        Assert.True(check.ExitCode == 0, check.Stderr);

        string recording = Path.Combine(_dir, "rec.jsonl");
        using var record = CollectorProcess.Start(_dir, "record", "--config", config, "--out", recording);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await converter.RunAsync(simulator, samples, [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        meter.SetEnergyKWh(5000.25);
        await Task.Delay(1000);
        record.Kill();

        var records = File.ReadLines(recording).Select(RecordCodec.Parse).ToList();
        var power = records.OfType<TagRecord>().Where(r => r.Tag == "F1.PowerTotal" && r.Quality == SampleQuality.Good).Select(r => r.Value).ToList();
        Assert.Contains(5000.0, power);
        Assert.Equal(5000.25, power[^1], 1e-9);
        Assert.True(records.OfType<ScaleRecord>().Count() > 20);

        var replay = await CollectorProcess.RunAsync(_dir, "replay", "--config", config, "--in", recording, "--out", "out.jsonl");
        Assert.True(replay.ExitCode == 0, replay.Stderr);
        var tickets = File.ReadLines(Path.Combine(_dir, "out.jsonl")).Where(l => l.Contains("/F1/ticket", StringComparison.Ordinal))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("payload").GetProperty("grossKg").GetDouble()).ToList();
        Assert.Equal([8000.0, 9000.0], tickets);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
