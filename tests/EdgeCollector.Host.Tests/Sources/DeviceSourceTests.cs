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
        await using var devices = await StartDevicesAsync(5000);
        var (meter, converter, config) = (devices.Meter, devices.Converter, devices.Config);
        var simulator = new ScaleSimulator(ScaleProtocols.Create("Toledo-Continuous"), new ScaleSimulatorOptions { FrameRateHz = 20, CorruptPercent = 10 });
        var samples = ScaleScenario.Loads([8000m, 9000m]);

        var check = await CollectorProcess.RunAsync(_dir, "check-config", "--config", config);
        Assert.True(check.ExitCode == 0, check.Stderr);

        string recording = Path.Combine(_dir, "rec.jsonl");
        using var record = CollectorProcess.Start(_dir, "record", "--config", config, "--out", recording);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await converter.RunAsync(simulator, samples, [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);
        meter.SetEnergyKWh(5000.25);
        await Task.Delay(1000);
        Assert.Equal(0, await record.StopAsync(TimeSpan.FromSeconds(15)));   // a stop flushes the reorder buffer

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

    [Fact]
    public async Task A_live_collector_applies_operator_picks_and_voids_from_the_audited_inbox()
    {
        await using var devices = await StartDevicesAsync(100);
        var (converter, config) = (devices.Converter, devices.Config);
        var simulator = new ScaleSimulator(ScaleProtocols.Create("Toledo-Continuous"), new ScaleSimulatorOptions { FrameRateHz = 20 });

        var pick = await CollectorProcess.RunAsync(_dir, "operator", "material", "--config", config, "--furnace", "F1", "--material", "PostConsumerUbc", "--by", "alice");
        Assert.True(pick.ExitCode == 0, pick.Stderr);
        using var collector = CollectorProcess.Start(_dir, "run", "--config", config);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await converter.RunAsync(simulator, ScaleScenario.Loads([8000m]), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(20), cts.Token);

        string messages = Path.Combine(_dir, "data", "messages.jsonl");
        var ticket = await WaitForAsync(() => Payloads(messages, "/F1/ticket").Cast<System.Text.Json.JsonElement?>().FirstOrDefault(), "the ticket");
        Assert.Equal(8000, ticket.GetProperty("grossKg").GetDouble());
        Assert.Equal("PostConsumerUbc", ticket.GetProperty("material").GetString());

        string id = ticket.GetProperty("id").GetString()!;
        var voided = await CollectorProcess.RunAsync(_dir, "operator", "void", "--config", config, "--ticket", id, "--reason", "wrong furnace", "--by", "bob");
        Assert.True(voided.ExitCode == 0, voided.Stderr);
        var voidMessage = await WaitForAsync(() => Payloads(messages, "/F1/ticket").Where(p => p.TryGetProperty("replaces", out _)).Cast<System.Text.Json.JsonElement?>().FirstOrDefault(), "the void");
        Assert.Equal(id, voidMessage.GetProperty("replaces").GetString());
        Assert.Equal("wrong furnace", voidMessage.GetProperty("reason").GetString());

        var audit = File.ReadAllLines(Path.Combine(_dir, "data", "operator-actions.jsonl"));
        Assert.Equal(2, audit.Length);
        Assert.Contains("\"by\":\"alice\"", audit[0], StringComparison.Ordinal);
        Assert.Contains("\"by\":\"bob\"", audit[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_readiness_and_Prometheus_metrics_are_served_with_the_bearer_token()
    {
        await using var devices = await StartDevicesAsync(100);
        using var collector = CollectorProcess.Start(_dir, new Dictionary<string, string> { ["DASH_TOKEN"] = "t0k3n" },
            "run", "--config", devices.Config, "--set", "Dashboard:TokenEnv=DASH_TOKEN");
        string url = await WaitForListeningAsync(collector);
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        // Alive once the collector loop runs (a moment after the endpoint listens).
        var healthDeadline = DateTime.UtcNow.AddSeconds(20);
        while ((await http.GetAsync("/healthz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < healthDeadline, "/healthz never became OK");
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/overview")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/stream")).StatusCode);
        var page = await http.GetAsync("/");   // the page holds no data: it sends the token with its requests
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("/api/stream", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "t0k3n");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        string text = "";
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !text.Contains("edgecollector_source_records_total{source=\"meters\"}", StringComparison.Ordinal))
        {
            await Task.Delay(200);
            text = await http.GetStringAsync("/metrics");
        }

        // The overview exists from the start and fills in at the first checkpoint with data.
        System.Text.Json.JsonElement f1 = default;
        var overviewDeadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            var overview = await http.GetAsync("/api/overview");
            Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
            var root = System.Text.Json.JsonDocument.Parse(await overview.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("t", root.GetProperty("site").GetString());
            f1 = root.GetProperty("furnaces")[0];
            Assert.Equal("F1", f1.GetProperty("id").GetString());
            Assert.True(DateTime.UtcNow < overviewDeadline, "the overview never filled in");
            await Task.Delay(100);
        }
        while (f1.GetProperty("periods").GetArrayLength() < 4);

        var samples = PrometheusText.Parse(text);
        Assert.True(samples[("edgecollector_up", "")] == 1);
        Assert.True(samples[("edgecollector_source_records_total", "source=\"meters\"")] > 0);
        Assert.True(samples.ContainsKey(("edgecollector_engine_counter_events_total", "event=\"spike-rejected\"")));
        Assert.True(samples.ContainsKey(("edgecollector_outbox_depth", "")));
        Assert.True(samples[("edgecollector_source_connects_total", "source=\"meters\"")] >= 1);
        Assert.True(samples.ContainsKey(("edgecollector_source_errors_total", "source=\"F1-charge\"")));
    }

    [Fact]
    public async Task Readyz_stays_ready_and_says_buffering_while_the_broker_is_down()
    {
        await using var devices = await StartDevicesAsync(0);
        string config = devices.Config;
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        int deadPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();   // nothing listens there: the broker is down
        using var collector = CollectorProcess.Start(_dir, "run", "--config", config, "--set", $"Uplink:Mqtt:Broker=mqtt://127.0.0.1:{deadPort}");
        using var http = new HttpClient { BaseAddress = new Uri(await WaitForListeningAsync(collector)) };
        string body = "";
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!body.Contains("buffering", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"/readyz said: {body}");
            await Task.Delay(200);
            var r = await http.GetAsync("/readyz");
            body = await r.Content.ReadAsStringAsync();
            if (r.StatusCode == HttpStatusCode.OK)
            {
                Assert.StartsWith("ready", body, StringComparison.Ordinal);
            }
        }

        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("mqtt_connected 0", metrics, StringComparison.Ordinal);
        // Nothing acknowledged yet: the publish-latency histogram is there, well-formed and empty.
        var samples = PrometheusText.Parse(metrics);
        Assert.Equal(0, samples[("edgecollector_publish_latency_seconds_count", "")]);
        Assert.Equal(0, samples[("edgecollector_publish_latency_seconds_bucket", "le=\"+Inf\"")]);
        // Calm under faults: each refused connect is one warning line naming the fault, no stack trace per retry,
        // and the dashboard's polling does not log a line per request.
        string output = collector.Stdout + collector.Stderr;
        Assert.Contains("mqtt: MQTT connect to 127.0.0.1", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at System.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
    }

    private static async Task<string> WaitForListeningAsync(CollectorProcess p)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var m = System.Text.RegularExpressions.Regex.Match(p.Stdout + p.Stderr, @"Now listening on: (http://127\.0\.0\.1:\d+)");
            if (m.Success)
            {
                return m.Groups[1].Value;
            }

            Assert.False(p.HasExited, p.Stderr);
            await Task.Delay(100);
        }

        throw new TimeoutException("the collector did not report its endpoint");
    }

    private static List<System.Text.Json.JsonElement> Payloads(string path, string topicSuffix)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("topic").GetString()!.EndsWith(topicSuffix, StringComparison.Ordinal))
            .Select(e => e.GetProperty("payload")).ToList();
    }

    private static async Task<System.Text.Json.JsonElement> WaitForAsync(Func<System.Text.Json.JsonElement?> probe, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A simulated PM5xxx on a Modbus TCP slave and a scale converter, with the collector config that reads them.</summary>
    private sealed class Devices : IAsyncDisposable
    {
        public required SchneiderPm5xxxMeter Meter { get; init; }
        public required ModbusTcpSlave Slave { get; init; }
        public required ScaleTcpConverter Converter { get; init; }
        public string Config { get; set; } = "";

        public async ValueTask DisposeAsync()
        {
            await Converter.DisposeAsync();
            await Slave.DisposeAsync();
        }
    }

    private async Task<Devices> StartDevicesAsync(double kWh)
    {
        var units = new ModbusUnitMap();
        var meter = new SchneiderPm5xxxMeter(1);
        meter.AttachTo(units);
        meter.SetEnergyKWh(kWh);
        var devices = new Devices { Meter = meter, Slave = new ModbusTcpSlave(units, new IPEndPoint(IPAddress.Loopback, 0)).Start(), Converter = new ScaleTcpConverter() };
        devices.Config = await WriteConfigAsync(devices.Slave.LocalEndPoint.Port, devices.Converter.HostPort);
        return devices;
    }

    private async Task<string> WriteConfigAsync(int modbusPort, string scaleHostPort)
    {
        string config = Path.Combine(_dir, "plant.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Site": { "Id": "t", "Name": "test", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
              "Sources": [
                { "Name": "meters", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": {{modbusPort}}, "PollMs": 200, "TimeoutMs": 500,
                  "Tags": [ { "Tag": "F1.PowerTotal", "UnitId": 1, "Area": "Holding", "Address": 3203, "DataType": "Int64", "Scale": 0.001, "Unit": "kWh",
                              "Counter": { "MaxRatePerHour": 100000 } } ] },
                { "Name": "F1-charge", "Type": "Scale", "Tcp": "{{scaleHostPort}}", "Protocol": "Toledo-Continuous", "Unit": "kg",
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
        return config;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
