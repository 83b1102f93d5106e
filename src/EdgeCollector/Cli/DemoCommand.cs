using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Pipeline;
using EdgeCollector.Simulators.Live;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Cli;

/// <summary>
/// <c>edgecollector demo</c>: the main job of the README. It starts the simulated melt shop
/// (<see cref="LivePlant"/>: furnace PLC over OPC UA, meters over Modbus TCP and RTU, scales over TCP
/// converters, all on 127.0.0.1) and the collector reading it on the plant's compressed clock,
/// with the outputs of the embedded demo config (or <c>--config</c>): local SQLite state and
/// outbox, dashboard, MQTT to 127.0.0.1:1883 (the outbox holds messages while no broker listens),
/// InfluxDB only if configured. <c>--replay</c> keeps the former job: the engine over the shipped
/// recording of a shift.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var command = new Command("demo", "Start the simulated melt shop and the collector reading it (dashboard, MQTT when a broker listens); --replay: replay the shipped sample shift instead.");
        CommandLine.AddConfigOptions(command);
        var outOption = new Option<string?>("--out") { Description = "Also write every published message here (JSON lines)." };
        var replayOption = new Option<bool>("--replay") { Description = "Replay the shipped sample shift (config/sample-shift.jsonl) and print its KPIs, instead of the live plant." };
        var speedOption = new Option<double>("--speed") { Description = "Simulated seconds per wall second (default 60: an 8-hour shift in 8 minutes).", DefaultValueFactory = _ => 60 };
        var hoursOption = new Option<double>("--hours") { Description = "Length of the simulated period in hours (default 8, one shift).", DefaultValueFactory = _ => 8 };
        var durationOption = new Option<double?>("--duration") { Description = "Stop after this many wall seconds (default: run until Ctrl+C)." };
        var seedOption = new Option<int>("--seed") { Description = "Scenario seed.", DefaultValueFactory = _ => 1 };
        var furnacesOption = new Option<int>("--furnaces") { Description = "Number of furnaces.", DefaultValueFactory = _ => 2 };
        var shiftsOption = new Option<string?>("--shift-starts") { Description = "Local shift start times of the simulated site, e.g. 08:00,12:00,16:00,20:00,00:00,04:00 (default 08:00,16:00,00:00)." };
        foreach (var o in new Option[] { outOption, replayOption, speedOption, hoursOption, durationOption, seedOption, furnacesOption, shiftsOption })
        {
            command.Options.Add(o);
        }

        command.SetAction(async (parse, ct) =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(replayOption))
            {
                return await ReplayAsync(config, parse.GetValue(outOption), ct);
            }

            ScenarioOptions scenario;
            LivePlantOptions plantOptions;
            try
            {
                scenario = new ScenarioOptions
                {
                    Seed = parse.GetValue(seedOption),
                    Furnaces = parse.GetValue(furnacesOption),
                    MinSettleReadings = LivePlantOptions.LiveSettleReadings,
                    Duration = TimeSpan.FromHours(parse.GetValue(hoursOption)),
                    ShiftStarts = parse.GetValue(shiftsOption) is { } s
                        ? s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(x => TimeOnly.ParseExact(x, "HH:mm", CultureInfo.InvariantCulture)).ToArray()
                        : new ScenarioOptions().ShiftStarts,
                };
                plantOptions = new LivePlantOptions { Scenario = scenario, Speed = parse.GetValue(speedOption), Lead = TimeSpan.FromSeconds(1) };
                plantOptions.Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                await Console.Error.WriteLineAsync("demo: " + ex.Message);
                return ExitCodes.BadInput;
            }

            double? duration = parse.GetValue(durationOption);
            if (duration is <= 0)
            {
                await Console.Error.WriteLineAsync("demo: --duration must be above 0 seconds");
                return ExitCodes.BadInput;
            }

            return await LiveAsync(config, plantOptions, duration, parse.GetValue(outOption), parse.GetValue(CommandLine.SetOption) ?? [], ct);
        });
        return command;
    }

    private static async Task<int> LiveAsync(EdgeConfig defaults, LivePlantOptions plantOptions, double? duration, string? output, string[] sets, CancellationToken ct)
    {
        // Every demo run starts from empty state in its own directory: its figures can be compared with its truth.
        string runDir = Path.GetFullPath(Path.Combine(defaults.Storage.DataDir, "demo-live", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)));
        Directory.CreateDirectory(runDir);
        string truth = Path.Combine(runDir, "truth.jsonl");
        string configPath = Path.Combine(runDir, "collector.json");
        plantOptions = plantOptions with { OperatorInbox = Path.Combine(runDir, Sources.Recording.OperatorInbox.FileName) };

        await using var plant = await LivePlant.StartAsync(plantOptions, ct);
        var mqtt = defaults.Uplink.Mqtt;
        await File.WriteAllTextAsync(configPath, LiveConfig.Json(plant, new LiveConfigOptions
        {
            Broker = mqtt?.Broker,
            ClientId = mqtt is { ClientId.Length: > 0 } ? mqtt.ClientId : "edge-demo",
            DataDir = runDir,
            DashboardUrls = defaults.Dashboard.Urls,
            MaxHoldSeconds = (int)defaults.Engine.MaxHoldSeconds,
        }), ct);
        plant.WriteTruth(truth, plan: true);

        // The outputs the user configured beyond those the plant's config carries (InfluxDB, tokens), then their --set pairs.
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (defaults.Storage.Influx is { } influx)
        {
            overrides["Storage:Influx:Url"] = influx.Url;
            overrides["Storage:Influx:Api"] = influx.Api;
            overrides["Storage:Influx:Org"] = influx.Org;
            overrides["Storage:Influx:Bucket"] = influx.Bucket;
            overrides["Storage:Influx:TokenEnv"] = influx.TokenEnv;
            overrides["Storage:Influx:Database"] = influx.Database;
        }

        if (defaults.Dashboard.TokenEnv is { } token)
        {
            overrides["Dashboard:TokenEnv"] = token;
        }

        foreach (var (key, value) in ConfigLoader.ParseOverrides(sets.Where(s => !s.StartsWith("Storage:DataDir", StringComparison.OrdinalIgnoreCase)), out _))
        {
            overrides[key] = value;
        }

        var loaded = ConfigLoader.Load(configPath, overrides);
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors)
            {
                await Console.Error.WriteLineAsync(e);
            }

            return ExitCodes.Failure;
        }

        var config = loaded.Config!;
        var o = plantOptions.Scenario;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"EdgeCollector demo: a simulated melt shop ({o.Furnaces} furnaces, seed {o.Seed}) from {o.Start:yyyy-MM-dd HH:mm}Z for {o.Duration.TotalHours:0.##} h at {plantOptions.Speed:0.##}x (≈ {plant.Clock.WallOf(o.Duration).TotalMinutes:0.#} min)"));
        Console.WriteLine($"  furnace PLC   OPC UA {plant.OpcUaEndpoint} (gas totalisers, state, heat number)");
        Console.WriteLine($"  power meters  Modbus TCP 127.0.0.1:{plant.ModbusPort}; aux meter {(plant.AuxSerialPort is { } pty ? "Modbus RTU on " + pty + " (socat)" : "Modbus TCP unit 100 (no socat)")}");
        Console.WriteLine($"  scales        {string.Join(", ", plant.ScalePorts.Select(s => $"{s.Key} :{s.Value}"))}");
        Console.WriteLine($"  dashboard     {DashboardUrl(config.Dashboard.Urls)}");
        Console.WriteLine($"  data dir      {runDir}");
        Console.WriteLine($"  config        {configPath}");
        Console.WriteLine($"  ground truth  {truth}");
        if (config.Uplink.Mqtt is { } m)
        {
            bool up = await ReachableAsync(m.Broker, ct);
            Console.WriteLine(up
                ? $"  MQTT          {m.Broker} is reachable: KPIs go to {m.TopicPrefix}/{config.Site.Id}/#"
                : $"  MQTT          {m.Broker} is not reachable: messages wait in the outbox ({Path.Combine(runDir, "mqtt")}) and go out when it is (/readyz says so)");
        }
        else
        {
            Console.WriteLine($"  messages      {Path.Combine(runDir, "messages.jsonl")} (no Uplink.Mqtt)");
        }

        if (config.Storage.Influx is { } i)
        {
            Console.WriteLine($"  InfluxDB      {i.Url}");
        }

        Console.WriteLine(duration is { } d ? $"Runs {d:0.#} s, then stops." : "Ctrl+C stops it.");
        Console.WriteLine();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (duration is { } seconds)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var printer = new KpiPrinter(output);
        _ = AnnounceEndAsync(plant, stop.Token);
        int code = await RunCommand.RunAsync(config, untilSourcesEnd: false, stop.Token, plant.Clock, printer);
        plant.WriteTruth(truth);
        Console.WriteLine();
        Console.WriteLine($"Stopped at simulated {GroundTruth.FormatTime(plant.ServedUntil)}: {printer.Heats} heat and {printer.Shifts} shift KPI messages published.");
        Console.WriteLine($"Ground truth of what the plant served: {truth}");
        Console.WriteLine($"Compare: edgecollector-sim compare --truth {truth} --messages <a subscriber's capture> (see docs/live-run.md)");
        return code;
    }

    private static async Task AnnounceEndAsync(LivePlant plant, CancellationToken ct)
    {
        try
        {
            while (!plant.Finished)
            {
                await Task.Delay(500, ct);
            }

            Console.WriteLine("-- the simulated period is over; the plant holds (meters still, scales empty). Ctrl+C stops the demo.");
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string DashboardUrl(string urls)
    {
        string first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0].TrimEnd('/');
        if (first.EndsWith(":0", StringComparison.Ordinal))
        {
            return "a free port, logged as 'Now listening on: …' once it listens";
        }

        return first.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal) + "/   (/metrics, /readyz)";
    }

    private static async Task<bool> ReachableAsync(string broker, CancellationToken ct)
    {
        if (!Uri.TryCreate(broker, UriKind.Absolute, out var uri))
        {
            return false;
        }

        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(uri.Host, uri.Port > 0 ? uri.Port : 1883, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<int> ReplayAsync(EdgeConfig config, string? output, CancellationToken ct)
    {
        var recording = config.Sources.FirstOrDefault(s => s.Type == SourceType.Recording);
        if (recording?.Path is not { } path)
        {
            await Console.Error.WriteLineAsync("demo --replay: the config has no Recording source to replay");
            return ExitCodes.BadInput;
        }

        Console.WriteLine($"EdgeCollector demo (replay): site '{config.Site.Id}' ({config.Site.TimeZone}), recording {path}");
        output ??= Path.Combine(config.Storage.DataDir, "demo-messages.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        int code = await ReplayCommand.RunAsync(new PlantModel(config), path, output, summary: true, ct);
        if (code == ExitCodes.Ok)
        {
            Console.WriteLine();
            Console.WriteLine($"Every message (minute, heat, shift, day KPIs and tickets, contracts.md §2 payloads): {output}");
        }

        return code;
    }

    /// <summary>Prints each heat, shift and day KPI as it is published, and copies every message to <c>--out</c>.</summary>
    private sealed class KpiPrinter(string? output) : IMessageSink
    {
        private int _heats, _shifts;

        public string Name => "demo-console";

        public int Heats => Volatile.Read(ref _heats);

        public int Shifts => Volatile.Read(ref _shifts);

        public async Task DeliverAsync(IReadOnlyList<StoredMessage> messages, CancellationToken cancellationToken)
        {
            if (output is not null)
            {
                await using var file = new FileStream(output, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                await using var writer = new StreamWriter(file);
                foreach (var m in messages)
                {
                    await writer.WriteAsync($"{{\"topic\":{JsonSerializer.Serialize(m.Topic)},\"payload\":{System.Text.Encoding.UTF8.GetString(m.Payload)}}}\n");
                }
            }

            foreach (var m in messages)
            {
                string kind = m.Topic.EndsWith("/kpi/heat", StringComparison.Ordinal) ? "heat"
                    : m.Topic.EndsWith("/kpi/shift", StringComparison.Ordinal) ? "shift"
                    : m.Topic.EndsWith("/kpi/day", StringComparison.Ordinal) ? "day" : "";
                if (kind.Length == 0)
                {
                    continue;
                }

                if (kind == "heat")
                {
                    Interlocked.Increment(ref _heats);
                }
                else if (kind == "shift")
                {
                    Interlocked.Increment(ref _shifts);
                }

                Console.WriteLine(Line(kind, JsonDocument.Parse(m.Payload).RootElement));
            }
        }

        private static string Line(string kind, JsonElement p)
        {
            var c = CultureInfo.InvariantCulture;
            var window = p.GetProperty("window");
            string label = kind == "heat" ? window.GetProperty("heatId").GetString()! : $"{window.GetProperty("start").GetString()} – {window.GetProperty("end").GetString()}";
            string N(string section, string name, string format, double scale = 1)
            {
                var v = p.GetProperty(section).GetProperty(name);
                return v.ValueKind == JsonValueKind.Null ? "-" : (v.GetDouble() * scale).ToString(format, c);
            }

            var quality = p.GetProperty("quality");
            string flags = string.Join(",", quality.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
            return $"{kind,-5} {p.GetProperty("entity").GetString(),-4} {label,-42} charged {N("metal", "chargedKg", "F3", 0.001)} t, tapped {N("metal", "tappedKg", "F3", 0.001)} t, " +
                $"yield {N("metal", "meltYield", "F2", 100)} %, gas {N("energy", "gasNm3", "F1")} Nm3, {N("energy", "electricityKWh", "F1")} kWh, " +
                $"{N("emissions", "intensityTCO2ePerT", "F4")} tCO2e/t{(quality.GetProperty("complete").GetBoolean() ? "" : " (incomplete)")}{(flags.Length > 0 ? " [" + flags + "]" : "")} rev {p.GetProperty("rev").GetInt32()}";
        }
    }
}
