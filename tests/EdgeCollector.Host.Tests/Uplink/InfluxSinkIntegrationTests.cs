using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using EdgeCollector.Host.Tests.Process;

namespace EdgeCollector.Host.Tests.Uplink;

/// <summary>The collector writes its KPIs and raw samples to a real VictoriaMetrics over the InfluxDB line protocol.</summary>
[Trait("Category", "Integration")]
public sealed class InfluxSinkIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-influx-").FullName;
    private System.Diagnostics.Process? _vm;

    [Fact]
    public async Task Heat_KPIs_and_raw_samples_read_back_from_VictoriaMetrics_with_exact_values()
    {
        const string vmPath = "/usr/bin/victoria-metrics";
        Assert.True(File.Exists(vmPath), "victoria-metrics is not installed (apt-get install victoria-metrics)");
        int port = PeerProcesses.FreePort();
        var psi = new ProcessStartInfo(vmPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add($"-httpListenAddr=127.0.0.1:{port}");
        psi.ArgumentList.Add($"-storageDataPath={Path.Combine(_dir, "vm")}");
        _vm = System.Diagnostics.Process.Start(psi)!;
        _vm.BeginOutputReadLine();
        _vm.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await WaitUntilAsync(async () => { try { return (await http.GetAsync("/health")).IsSuccessStatusCode; } catch (HttpRequestException) { return false; } });

        string sample = Path.Combine(CollectorProcess.RepoRoot, "config", "sample-shift.jsonl");
        var replay = await CollectorProcess.RunAsync(_dir, "replay", "--in", sample, "--out", "reference.jsonl");
        Assert.Equal(0, replay.ExitCode);
        var heats = File.ReadLines(Path.Combine(_dir, "reference.jsonl")).Where(l => l.Contains("/kpi/heat\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("payload")).ToList();
        Assert.NotEmpty(heats);

        string config = CollectorProcess.DemoConfigWithout(_dir, "Uplink");
        var run = await CollectorProcess.RunAsync(_dir, "run", "--config", config, "--until-sources-end",
            "--set", $"Sources:0:Path={sample}", "--set", $"Storage:DataDir={Path.Combine(_dir, "data")}",
            "--set", $"Storage:Influx:Url=http://127.0.0.1:{port}", "--set", "Storage:Influx:Api=v1", "--set", "Storage:Influx:Database=edge");
        Assert.True(run.ExitCode == 0, run.Stderr);
        await http.GetAsync("/internal/force_flush");

        // VictoriaMetrics names a line-protocol field {measurement}_{field}.
        var exported = await ExportAsync(http, "kpi_chargedKg{kind=\"heat\"}");
        foreach (var heat in heats)
        {
            string entity = heat.GetProperty("entity").GetString()!;
            long start = DateTimeOffset.Parse(heat.GetProperty("window").GetProperty("start").GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            Assert.Contains((entity, start, heat.GetProperty("metal").GetProperty("chargedKg").GetDouble()), exported);
        }

        var raw = await ExportAsync(http, "sample_value{tag=\"F1.PowerTotal\"}");
        Assert.True(raw.Count > 1000, $"{raw.Count} raw power samples");
    }

    private static async Task<List<(string Entity, long Time, double Value)>> ExportAsync(HttpClient http, string selector)
    {
        var list = new List<(string, long, double)>();
        for (int attempt = 0; attempt < 50 && list.Count == 0; attempt++)
        {
            var body = await http.GetStringAsync("/api/v1/export?match[]=" + Uri.EscapeDataString(selector));
            foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var d = JsonDocument.Parse(line);
                var metric = d.RootElement.GetProperty("metric");
                string entity = metric.TryGetProperty("entity", out var e) ? e.GetString()! : "";
                var values = d.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
                var times = d.RootElement.GetProperty("timestamps").EnumerateArray().Select(v => v.GetInt64()).ToList();
                for (int i = 0; i < values.Count; i++)
                {
                    list.Add((entity, times[i], values[i]));
                }
            }

            if (list.Count == 0)
            {
                await Task.Delay(200);
            }
        }

        return list;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("victoria-metrics did not become healthy");
            }

            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (_vm is { HasExited: false })
        {
            _vm.Kill(entireProcessTree: true);
            _vm.WaitForExit(5000);
        }

        _vm?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
