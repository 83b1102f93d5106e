using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Xunit.Abstractions;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.Simulators.Live;
using EdgeCollector.Simulators.Plant;

namespace EdgeCollector.Host.Tests.EndToEnd;

/// <summary>Timing-sensitive runs (a compressed clock): alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}

/// <summary>
/// The whole chain: the live simulated plant (OPC UA PLC, Modbus TCP meters, Modbus RTU aux meter on
/// a socat pty, scales behind TCP converters) → the real <c>edgecollector run</c> process on the
/// plant's compressed clock → mosquitto (own config, free port, <c>max_queued_messages 0</c>) → an
/// independent subscriber (<c>mosquitto_sub -F %j</c>). Every heat and shift KPI it receives is
/// compared with the plant's ground truth: 0.1 % for energy, masses and yield, 0.5 % for emissions
/// and intensity. With faults switched on, every figure is still right or its KPI carries the
/// quality flag that says it may not be — never a silently wrong number.
/// </summary>
[Collection(EndToEndCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PlantEndToEndTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// 60×: the 3-hour scenario in 3 minutes of wall time. Every wall-clock stall is multiplied by the speed in
    /// simulated time, so CI runs at half the 120× the suite was first tuned at (a 250 ms stall = 15 s simulated).
    /// <c>PLANT_E2E_SPEED</c> overrides it for diagnosis.
    /// </summary>
    private static readonly double Speed =
        double.TryParse(Environment.GetEnvironmentVariable("PLANT_E2E_SPEED"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 60;

    /// <summary>Time for the collector process to start and connect every source before the scenario's first instant.</summary>
    private static readonly TimeSpan Lead = TimeSpan.FromSeconds(15);

    private readonly string _dir = Directory.CreateTempSubdirectory("edge-e2e-").FullName;
    private readonly PeerProcesses _peers = new();

    /// <summary>
    /// Settled weight held ≥ 30 s of simulated time (500 ms wall at 60×). The collector stamps a scale
    /// reading when it arrives (real indicators send no time), so a collector descheduled for ~50 ms
    /// during an 8-s hold (67 ms wall at 120×) receives the whole hold as one burst with one timestamp and no
    /// reading span reaches StableSeconds: no ticket (flagged <c>scale-load-unticketed</c>). At 1× that
    /// would take a 6-s stall; 30 s holds at 60× tolerate ~460 ms wall stalls (the worst seen on a loaded 2-core machine: ~230 ms).
    /// </summary>
    private const int SettleReadings = 30;

    /// <summary>3 simulated hours (seed 1, two furnaces) with 90-minute shifts: two closed heats and six shift KPIs in ≈ 3 min at 60×.</summary>
    private static ScenarioOptions Scenario => new()
    {
        Seed = 1,
        Furnaces = 2,
        MinSettleReadings = SettleReadings,
        Duration = TimeSpan.FromHours(3),
        ShiftStarts = Enumerable.Range(0, 16).Select(i => new TimeOnly(8, 0).AddMinutes(90 * i)).ToArray(),
    };

    [Fact]
    public async Task Every_published_heat_and_shift_KPI_matches_the_ground_truth()
    {
        var run = await RunAsync(new LivePlantOptions { Scenario = Scenario, Speed = Speed, Lead = Lead });
        var result = run.Comparison;
        Assert.True(result.Unpublished.Count == 0, "not published:\n" + result.Summary() + run.Diagnostics);
        Assert.Equal(2, result.Kpis.Count(k => k.Kind == "heat"));
        Assert.Equal(6, result.Kpis.Count(k => k.Kind == "shift"));
        foreach (var k in result.Kpis)
        {
            Assert.True(k.Ok, $"{k.Kind} {k.Entity} {k.Label}:\n{result.Summary()}{run.Diagnostics}");
            Assert.True(k.Complete, $"{k.Kind} {k.Entity} {k.Label} incomplete");
            Assert.DoesNotContain(k.Flags, f => f.StartsWith("counter-", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task With_faults_every_figure_is_right_or_flagged()
    {
        // Times in simulated time from the start. Heats: F1 00:06–02:11, F2 00:25–02:40; shifts 00:00–01:30–03:00.
        string[] faults =
        [
            "corrupt:F1-tap=5",                 // 5 % of the tap scale's frames (A&D, no check digit) damaged all along
            "drop:F2-dross@40m+10m",            // the converter goes away between the scale's loads
            "stall:F1.PowerTotal@50m+10m",      // the meter stops answering, the link stays up
            "restart:plc@60m",                  // the OPC UA server restarts (gas totalisers gone for a while)
            "reset:F2.PowerTotal@70m",          // a meter reset: counter-reset on what it touches
            "rollover:F1.GasTotal@105m",        // the PLC totaliser passes its Counter.Max
            "stall:aux@120m+5m",                // the RTU aux meter is silent
        ];
        var run = await RunAsync(new LivePlantOptions
        {
            Scenario = Scenario, Speed = Speed, Lead = Lead,
            Faults = faults.Select(PlantFault.Parse).ToArray(),
        });
        var result = run.Comparison;
        Assert.Equal(faults.Length, run.FaultLog.Count(l => l.EndsWith(": on", StringComparison.Ordinal)));
        Assert.True(result.Unpublished.Count == 0, "not published:\n" + result.Summary() + run.Diagnostics);
        foreach (var k in result.Kpis)
        {
            Assert.True(k.Ok || k.Flagged, $"silently wrong: {k.Kind} {k.Entity} {k.Label}:\n{result.Summary()}{run.Diagnostics}");
        }

        // The reset is seen and flagged where it happened: F2's first heat and the first shift (F2 and site).
        Assert.Contains("counter-reset", result.Kpis.Single(k => k.Kind == "heat" && k.Entity == "F2").Flags);
        Assert.Contains("counter-reset", result.Kpis.Single(k => k.Kind == "shift" && k.Entity == "F2" && k.Label.StartsWith("2026-11-20T00:00", StringComparison.Ordinal)).Flags);
        // The rollover is not a reset: F1's heat has no counter flag and is right.
        var f1 = result.Kpis.Single(k => k.Kind == "heat" && k.Entity == "F1");
        Assert.True(f1.Ok && !f1.Flagged, result.Summary());
    }

    private sealed record Run(TruthComparison Comparison, IReadOnlyList<string> FaultLog, string Diagnostics);

    private async Task<Run> RunAsync(LivePlantOptions options)
    {
        int port = PeerProcesses.FreePort();
        string conf = Path.Combine(_dir, "mosquitto.conf");
        // max_queued_messages 0: no per-client queue limit, so a lagging subscriber loses no QoS 1 message.
        await File.WriteAllTextAsync(conf, $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nmax_queued_messages 0\n");
        _peers.Start("/usr/sbin/mosquitto", "-c", conf);
        await PeerProcesses.WaitUntilAsync(() => PeerProcesses.CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto to listen");
        var sub = _peers.Start("/usr/bin/stdbuf", "-oL", "/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
            "-V", "mqttv5", "-q", "1", "-t", "edgecollector/v1/#", "-F", "%j", "-d");
        var lines = new List<string>();
        bool subscribed = false;
        sub.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith('{')) { lock (lines) lines.Add(e.Data); }
            else if (e.Data.Contains("SUBACK", StringComparison.Ordinal)) { Volatile.Write(ref subscribed, true); }
        };
        sub.BeginOutputReadLine();
        await PeerProcesses.WaitUntilAsync(() => Volatile.Read(ref subscribed), TimeSpan.FromSeconds(10), "the subscriber's SUBACK");

        string dataDir = Path.Combine(_dir, "data");
        await using var plant = await LivePlant.StartAsync(options with { OperatorInbox = Path.Combine(dataDir, "operator-actions.jsonl") });
        plant.ValidateFaults();
        string config = Path.Combine(_dir, "collector.json");
        await File.WriteAllTextAsync(config, LiveConfig.Json(plant, new LiveConfigOptions
        {
            Broker = $"mqtt://127.0.0.1:{port}", ClientId = "edge-e2e", DataDir = dataDir, DashboardUrls = "http://127.0.0.1:0",
        }));
        using var collector = CollectorProcess.Start(_dir, "run", "--config", config, "--sim-clock", plant.Clock.Spec);
        try
        {
            // The scenario's first load comes a few simulated minutes (≈ 1–4 s) after the anchor: every scale must be connected by then.
            await PeerProcesses.WaitUntilAsync(() => plant.ConnectedScales == plant.ScalePorts.Count, options.Lead, "the collector to connect to every scale before the scenario starts");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} ({plant.ConnectedScales} of {plant.ScalePorts.Count}); collector exited: {collector.HasExited}\n{Tail(collector.Stdout)}\n{Tail(collector.Stderr)}", ex);
        }

        // The scenario plays, then the collector needs its live-clock lag (5 s wall) to close the last windows.
        string truthPath = Path.Combine(_dir, "truth.jsonl");
        plant.WriteTruth(truthPath, plan: true);
        var truth = File.ReadLines(truthPath).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var deadline = DateTime.UtcNow + plant.Clock.WallOf(options.Scenario.Duration) + options.Lead + TimeSpan.FromSeconds(60);
        while (true)
        {
            await Task.Delay(1000);
            List<string> copy;
            lock (lines) copy = [.. lines];
            var partial = TruthComparison.Compare(truth, TruthComparison.ReadMessages(copy, out _));
            if ((plant.Finished && partial.Unpublished.Count == 0) || DateTime.UtcNow > deadline || collector.HasExited)
            {
                break;
            }
        }

        // A last moment for republished revisions (a window published incomplete, then final).
        await Task.Delay(3000);
        int code = await collector.StopAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(500);
        List<string> all;
        lock (lines) all = [.. lines];
        await File.WriteAllLinesAsync(Path.Combine(_dir, "captured.jsonl"), all);
        await File.WriteAllTextAsync(Path.Combine(_dir, "collector.log"), collector.Stdout + collector.Stderr);   // kept with PLANT_E2E_KEEP
        var comparison = TruthComparison.Compare(truth, TruthComparison.ReadMessages(all, out _));
        string diagnostics = $"\ncollector exit {code}; plant serving loop: {plant.ServeGaps}; loads sent for less than StableSeconds:\n{string.Join('\n', plant.ThinlySentLoads())}\ncollector: loads without a ticket:\n{string.Join('\n', (collector.Stdout + collector.Stderr).Split('\n').Where(l => l.Contains("no ticket", StringComparison.Ordinal)))}\nplant faults:\n{string.Join('\n', plant.FaultLog)}\ncollector stderr (tail):\n{Tail(collector.Stderr)}\nstdout (tail):\n{Tail(collector.Stdout)}";
        output.WriteLine(comparison.Summary() + diagnostics);
        return new Run(comparison, [.. plant.FaultLog], diagnostics);
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(30));

    public void Dispose()
    {
        _peers.Dispose();

        try
        {
            if (Environment.GetEnvironmentVariable("PLANT_E2E_KEEP") is { Length: > 0 } keep)
            {
                // Diagnosis: keep the run (truth, captured messages, collector data) where asked.
                Directory.Move(_dir, Path.Combine(keep, Path.GetFileName(_dir)));
                return;
            }

            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
