using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace EdgeCollector.Host.Tests.Process;

/// <summary>
/// The README's main job, headless and time-compressed as CI runs it: <c>demo</c> starts the
/// simulated plant and the collector reading it, and heat KPIs come out; <c>demo --replay</c>
/// still replays the shipped sample shift.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DemoProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-demo-").FullName;

    [Fact]
    public async Task The_live_demo_produces_heat_KPIs_from_the_simulated_plant()
    {
        // No broker on this port: the outbox must hold the messages and the demo must say so.
        int closedPort = PeerProcesses.FreePort();
        string output = Path.Combine(_dir, "messages.jsonl");
        using var demo = CollectorProcess.Start(_dir, "demo", "--speed", "150", "--hours", "2.4", "--duration", "68",
            "--shift-starts", "08:00,09:00,10:00,11:00,12:00,13:00,14:00,15:00,16:00,17:00,18:00,19:00,20:00,21:00,22:00,23:00,00:00,01:00,02:00,03:00,04:00,05:00,06:00,07:00",
            "--out", output, "--set", "Dashboard:Urls=http://127.0.0.1:0", "--set", $"Uplink:Mqtt:Broker=mqtt://127.0.0.1:{closedPort}");
        int code = await demo.WaitAsync(TimeSpan.FromSeconds(150));
        Assert.True(code == 0, demo.Stdout + demo.Stderr);

        Assert.Contains("is not reachable: messages wait in the outbox", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("ground truth", demo.Stdout, StringComparison.Ordinal);
        // Dashboard:Urls asks for a free port: the banner does not print ":0", the listening line names the real port.
        Assert.DoesNotContain(":0/", demo.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Now listening on: http://127\.0\.0\.1:[1-9][0-9]*", demo.Stdout + demo.Stderr);
        var messages = File.ReadLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var heats = messages.Where(m => m.GetProperty("topic").GetString()!.EndsWith("/kpi/heat", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(heats);
        foreach (var heat in heats)
        {
            var metal = heat.GetProperty("payload").GetProperty("metal");
            Assert.True(metal.GetProperty("chargedKg").GetDouble() > 5000, heat.ToString());
            Assert.True(metal.GetProperty("tappedKg").GetDouble() > 0, heat.ToString());
            Assert.True(heat.GetProperty("payload").GetProperty("energy").GetProperty("gasNm3").GetDouble() > 100, heat.ToString());
        }

        // Hourly shifts closed too, and the truth file the demo names exists with the served heats.
        Assert.Contains(messages, m => m.GetProperty("topic").GetString()!.EndsWith("/kpi/shift", StringComparison.Ordinal));
        string runDir = Directory.GetDirectories(Path.Combine(_dir, "data", "demo-live")).Single();
        Assert.Contains(File.ReadLines(Path.Combine(runDir, "truth.jsonl")), l => l.Contains("\"kind\":\"heat\"", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(runDir, "mqtt")), "the MQTT outbox is in the run's data dir");
    }

    [Fact]
    public async Task Demo_replay_replays_the_shipped_sample_shift()
    {
        string output = Path.Combine(_dir, "replay.jsonl");
        var r = await CollectorProcess.RunAsync(CollectorProcess.RepoRoot, "demo", "--replay", "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("HEAT KPIs", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(File.ReadLines(output), l => l.Contains("/kpi/shift\"", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
