using System.Globalization;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Simulators.Live;

/// <summary><c>edgecollector-sim plant …</c>: the live simulated plant until stopped (or <c>--exit-after</c>).</summary>
public static class PlantCommand
{
    /// <summary>Usage text.</summary>
    public const string Usage =
        "usage: edgecollector-sim plant [--speed N] [--seed N] [--furnaces N] [--hours H] [--start ISO-8601Z] [--time-zone TZ]\n" +
        "                               [--shift-starts 08:00,16:00,00:00] [--lead SECONDS] [--min-settle 8] [--opcua-port P] [--modbus-port P] [--no-rtu]\n" +
        "                               [--truth FILE] [--config-out FILE] [--clock-out FILE] [--operator-inbox FILE]\n" +
        "                               [--broker mqtt://127.0.0.1:1883|none] [--data-dir DIR] [--dashboard-urls URLS]\n" +
        "                               [--fault KIND:TARGET[@AT][+FOR][=PCT]]... [--exit-after SECONDS]\n" +
        "  Plays the scenario live on 127.0.0.1: furnace PLC over OPC UA, power meters over Modbus TCP, the aux meter over\n" +
        "  Modbus RTU (socat pty pair; TCP without socat), scales over TCP converters. Time runs --speed times real time\n" +
        "  (default 60). Writes the collector config (--config-out), the sim clock spec for `edgecollector run --sim-clock`\n" +
        "  (--clock-out) and the ground truth of what it served (--truth, rewritten at the end). Faults: drop, stall,\n" +
        "  restart, corrupt, reset, rollover (see simulators/EdgeCollector.Simulators/README.md).";

    /// <summary>Parsed arguments of the verb.</summary>
    public sealed record Arguments(LivePlantOptions Plant, LiveConfigOptions Outputs, string Truth, string? ConfigOut, string? ClockOut, TimeSpan? ExitAfter);

    /// <summary>Parses the verb's arguments (after <c>plant</c>); throws <see cref="ArgumentException"/> or <see cref="FormatException"/> naming the problem.</summary>
    public static Arguments Parse(IReadOnlyList<string> args)
    {
        var scenario = new ScenarioOptions { MinSettleReadings = LivePlantOptions.LiveSettleReadings };
        var plant = new LivePlantOptions();
        var outputs = new LiveConfigOptions();
        var faults = new List<PlantFault>();
        string truth = "plant.truth.jsonl";
        string? configOut = null, clockOut = null;
        TimeSpan? exitAfter = null;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int() => int.Parse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            double Number() => double.Parse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture);
            switch (name)
            {
                case "--speed": plant = plant with { Speed = Number() }; break;
                case "--min-settle": scenario = scenario with { MinSettleReadings = Int() }; break;
                case "--seed": scenario = scenario with { Seed = Int() }; break;
                case "--furnaces": scenario = scenario with { Furnaces = Int() }; break;
                case "--hours": scenario = scenario with { Duration = TimeSpan.FromHours(Number()) }; break;
                case "--start":
                    string text = Value();
                    if (!text.EndsWith('Z'))
                    {
                        throw new ArgumentException($"--start '{text}' must be UTC (end in Z)");
                    }

                    scenario = scenario with { Start = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).ToUniversalTime() };
                    break;
                case "--time-zone": scenario = scenario with { TimeZone = Value() }; break;
                case "--shift-starts":
                    scenario = scenario with
                    {
                        ShiftStarts = Value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                            .Select(s => TimeOnly.ParseExact(s, "HH:mm", CultureInfo.InvariantCulture)).ToArray(),
                    };
                    break;
                case "--lead": plant = plant with { Lead = TimeSpan.FromSeconds(Number()) }; break;
                case "--opcua-port": plant = plant with { OpcUaPort = Int() }; break;
                case "--modbus-port": plant = plant with { ModbusPort = Int() }; break;
                case "--no-rtu": plant = plant with { AuxOverRtu = false }; break;
                case "--operator-inbox": plant = plant with { OperatorInbox = Value() }; break;
                case "--fault": faults.Add(PlantFault.Parse(Value())); break;
                case "--truth": truth = Value(); break;
                case "--config-out": configOut = Value(); break;
                case "--clock-out": clockOut = Value(); break;
                case "--broker":
                    string broker = Value();
                    outputs = outputs with { Broker = broker == "none" ? null : broker };
                    break;
                case "--data-dir": outputs = outputs with { DataDir = Value() }; break;
                case "--dashboard-urls": outputs = outputs with { DashboardUrls = Value() }; break;
                case "--exit-after": exitAfter = TimeSpan.FromSeconds(Number()); break;
                default: throw new ArgumentException($"unknown option '{name}'");
            }
        }

        plant = plant with { Scenario = scenario, Faults = faults };
        plant.Validate();
        return new Arguments(plant, outputs, truth, configOut, clockOut, exitAfter);
    }

    /// <summary>Runs the plant until <paramref name="ct"/> is cancelled or <c>--exit-after</c>; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (args.Any(x => x is "--help" or "-h"))
        {
            await stdout.WriteLineAsync(Usage);
            return 0;
        }

        Arguments a;
        try
        {
            a = Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            await stderr.WriteLineAsync(ex.Message);
            await stderr.WriteLineAsync(Usage);
            return 2;
        }

        await using var plant = await LivePlant.StartAsync(a.Plant, ct);
        try
        {
            plant.ValidateFaults();
        }
        catch (ArgumentException ex)
        {
            await stderr.WriteLineAsync(ex.Message);
            return 2;
        }

        plant.WriteTruth(a.Truth, plan: true);
        if (a.ConfigOut is { } configOut)
        {
            await File.WriteAllTextAsync(configOut, LiveConfig.Json(plant, a.Outputs), ct);
        }

        if (a.ClockOut is { } clockOut)
        {
            await File.WriteAllTextAsync(clockOut, plant.Clock.Spec + "\n", ct);
        }

        var o = a.Plant.Scenario;
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"plant: {o.Furnaces} furnace(s), {o.Start:yyyy-MM-ddTHH:mm:ssZ} + {o.Duration.TotalHours} h at {a.Plant.Speed}x (≈ {plant.Clock.WallOf(o.Duration).TotalSeconds:0} s wall)"));
        await stdout.WriteLineAsync($"plant: OPC UA {plant.OpcUaEndpoint}; Modbus TCP 127.0.0.1:{plant.ModbusPort}; aux meter {(plant.AuxSerialPort is { } p ? "Modbus RTU on " + p : "Modbus TCP unit 100")}");
        await stdout.WriteLineAsync("plant: scales " + string.Join(", ", plant.ScalePorts.Select(s => $"{s.Key}=127.0.0.1:{s.Value}")));
        await stdout.WriteLineAsync($"plant: sim clock {plant.Clock.Spec}");
        await stdout.WriteLineAsync($"plant: truth {Path.GetFullPath(a.Truth)}{(a.ConfigOut is null ? "" : "; collector config " + Path.GetFullPath(a.ConfigOut))}");
        await stdout.WriteLineAsync("plant: ready");
        await stdout.FlushAsync(ct);

        bool announced = false, connected = false;
        var started = DateTimeOffset.UtcNow;
        try
        {
            while (a.ExitAfter is not { } limit || DateTimeOffset.UtcNow - started < limit)
            {
                await Task.Delay(100, ct);
                if (!connected && plant.ConnectedScales == plant.ScalePorts.Count)
                {
                    connected = true;
                    await stdout.WriteLineAsync($"plant: every scale has a client (simulated {GroundTruth.FormatTime(plant.Clock.GetUtcNow().UtcTicks)})");
                    await stdout.FlushAsync(ct);
                }
                if (plant.Finished && !announced)
                {
                    announced = true;
                    await stdout.WriteLineAsync($"plant: scenario served to its end ({plant.FramesSent} scale frames); holding");
                    await stdout.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        plant.WriteTruth(a.Truth);
        foreach (string line in plant.FaultLog)
        {
            await stdout.WriteLineAsync("plant: fault " + line);
        }

        await stdout.WriteLineAsync($"plant: stopped at {GroundTruth.FormatTime(plant.ServedUntil)}; truth {Path.GetFullPath(a.Truth)}");
        return 0;
    }
}
