using System.Net.Sockets;
using System.Text.Json;
using EdgeCollector.Modbus;
using EdgeCollector.Simulators.Live;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Tests;

public class LivePlantTests
{
    [Fact]
    public void The_sim_clock_runs_speed_times_wall_time_from_its_anchor_and_holds_before()
    {
        var origin = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
        var anchor = new DateTimeOffset(2026, 11, 21, 16, 0, 0, TimeSpan.Zero);
        var clock = new SimClock(origin, anchor, 120);
        Assert.Equal(origin, clock.ToSim(anchor - TimeSpan.FromSeconds(5)));
        Assert.Equal(origin + TimeSpan.FromMinutes(2), clock.ToSim(anchor + TimeSpan.FromSeconds(1)));
        Assert.Equal(anchor + TimeSpan.FromSeconds(30), clock.ToWall(origin + TimeSpan.FromHours(1)));
        var parsed = SimClock.Parse(clock.Spec);
        Assert.Equal((clock.Origin, clock.Anchor, clock.Speed), (parsed.Origin, parsed.Anchor, parsed.Speed));
        // Only the time of day is scaled: durations measured with timestamps stay wall time.
        Assert.Equal(TimeProvider.System.TimestampFrequency, clock.TimestampFrequency);
    }

    [Theory]
    [InlineData("origin=2026-11-20T00:00:00Z;anchor=2026-11-21T00:00:00Z")]
    [InlineData("origin=2026-11-20T00:00:00Z;anchor=2026-11-21T00:00:00Z;speed=0")]
    [InlineData("origin=2026-11-20T00:00:00;anchor=2026-11-21T00:00:00Z;speed=60")]
    [InlineData("origin=2026-11-20T00:00:00Z;anchor=2026-11-21T00:00:00Z;speed=60;x=1")]
    public void A_bad_sim_clock_spec_is_refused_naming_the_problem(string spec) =>
        Assert.StartsWith("sim clock:", Assert.Throws<FormatException>(() => SimClock.Parse(spec)).Message, StringComparison.Ordinal);

    [Fact]
    public void Fault_switches_parse_from_their_command_line_form()
    {
        var f = PlantFault.Parse("drop:F1-charge@1h+10m");
        Assert.Equal((PlantFaultKind.Drop, "F1-charge", TimeSpan.FromHours(1), (TimeSpan?)TimeSpan.FromMinutes(10)), (f.Kind, f.Target, f.At, f.For));
        var c = PlantFault.Parse("corrupt:scales=5%");
        Assert.Equal((PlantFaultKind.Corrupt, "scales", TimeSpan.Zero, 5.0), (c.Kind, c.Target, c.At, c.Percent));
        Assert.Equal(TimeSpan.FromSeconds(90), PlantFault.Parse("restart:plc@90s").At);
        Assert.Throws<FormatException>(() => PlantFault.Parse("drop:F1-charge@1h"));      // a drop needs +FOR
        Assert.Throws<FormatException>(() => PlantFault.Parse("corrupt:F1-tap"));          // corrupt needs =PERCENT
        Assert.Throws<FormatException>(() => PlantFault.Parse("explode:F1-tap"));
        Assert.Throws<FormatException>(() => PlantFault.Parse("reset:F1.PowerTotal@soon"));
    }

    [Fact]
    public async Task The_live_plant_serves_the_scenario_totalisers_and_the_config_names_its_endpoints()
    {
        var options = new LivePlantOptions
        {
            Scenario = new ScenarioOptions { Duration = TimeSpan.FromHours(1), MinSettleReadings = 8 },
            Speed = 600,
            Lead = TimeSpan.Zero,
            AuxOverRtu = false,
        };
        await using var plant = await LivePlant.StartAsync(options);
        plant.ValidateFaults();
        var config = JsonDocument.Parse(LiveConfig.Json(plant, new LiveConfigOptions())).RootElement;
        var sources = config.GetProperty("Sources").EnumerateArray().ToList();
        Assert.Equal(plant.OpcUaEndpoint, sources.Single(s => s.GetProperty("Type").GetString() == "OpcUa").GetProperty("Endpoint").GetString());
        Assert.Equal(plant.ModbusPort, sources.Single(s => s.GetProperty("Name").GetString() == "meters").GetProperty("Port").GetInt32());
        Assert.Equal(6, sources.Count(s => s.GetProperty("Type").GetString() == "Scale"));

        // F1's power meter (PM5xxx, unit 1, int64 Wh at 3203) reads the scenario's exact integral at the simulated now.
        await using var connection = new ModbusTcpConnection("127.0.0.1", plant.ModbusPort, new ModbusConnectionOptions { Timeout = TimeSpan.FromSeconds(2) });
        var tag = new ModbusTag("F1.PowerTotal", 1, ModbusArea.Holding, 3203, ModbusDataType.Int64, ModbusWordOrder.ABCD, 0.001, 0);
        var poller = new ModbusPoller(connection, [tag], new ModbusPollerOptions { Interval = TimeSpan.FromMilliseconds(50) });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var power = plant.Scenario.Furnaces[0].Power;
        double initial = power.InitialMilli / 1000.0;
        int checkedReads = 0;
        await foreach (var cycle in poller.RunAsync(cts.Token))
        {
            long after = plant.Clock.GetUtcNow().UtcTicks;
            var sample = Assert.Single(cycle);
            Assert.Equal(ModbusQuality.Good, sample.Quality);
            double value = sample.Value!.Value;
            // The served value lies between the truth at the plant's last update and now (plus the register's Wh rounding).
            Assert.InRange(value, initial - 0.001, initial + power.Integrate(power.GridStart, after) + 0.001);
            if (++checkedReads == 10)
            {
                break;
            }
        }

        // Scales accept a converter connection and stream frames.
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", plant.ScalePorts["F1-charge"]);
        var buffer = new byte[256];
        int n = await client.GetStream().ReadAsync(buffer, cts.Token);
        Assert.True(n > 0);
    }

    [Fact]
    public void The_settle_floor_changes_loads_only_where_it_lifts_them()
    {
        var plain = new PlantScenario(new ScenarioOptions { Duration = TimeSpan.FromHours(2) }).Generate();
        var floored = new PlantScenario(new ScenarioOptions { Duration = TimeSpan.FromHours(2), MinSettleReadings = 8 }).Generate();
        var a = plain.Furnaces[0].Weighings;
        var b = floored.Furnaces[0].Weighings;
        Assert.Equal(a.Select(w => w.Kg).Take(5), b.Select(w => w.Kg).Take(5));
        Assert.All(b, w => Assert.True(w.Readings.Count(r => !r.Motion && r.GrossKg == w.Kg) >= 8));
    }
}
