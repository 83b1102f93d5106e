using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeCollector.Host.Tests.Process;
using EdgeCollector.Sinks;

namespace EdgeCollector.Host.Tests.Deploy;

/// <summary>
/// No container engine runs on the development and CI machines, so deploy/ is checked statically:
/// the unit with systemd-analyze, the YAML files parse, compose mounts exist, and every Grafana
/// panel queries a KPI field the InfluxDB sink actually writes.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class DeployFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-deploy-").FullName;
    private static string Deploy => Path.Combine(CollectorProcess.RepoRoot, "deploy");

    [Fact]
    public async Task The_systemd_unit_verifies_clean()
    {
        // systemd-analyze checks that ExecStart exists: point a copy at a stand-in executable.
        string binary = Path.Combine(_dir, "edgecollector");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        string unit = Path.Combine(_dir, "edgecollector.service");
        await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Path.Combine(Deploy, "edgecollector.service"))).Replace("/opt/edgecollector/edgecollector", binary, StringComparison.Ordinal));
        var (code, output) = await RunAsync("/usr/bin/systemd-analyze", "verify", unit);
        Assert.True(code == 0 && output.Trim().Length == 0, $"systemd-analyze verify: exit {code}: {output}");
    }

    [Fact]
    public async Task Compose_and_provisioning_YAML_parse_and_every_bind_mount_exists()
    {
        foreach (var yaml in new[] { "compose.yaml", "compose/grafana/provisioning/datasources/influxdb.yaml", "compose/grafana/provisioning/dashboards/edgecollector.yaml" })
        {
            var (code, output) = await RunAsync("/usr/bin/python3", "-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))", Path.Combine(Deploy, yaml));
            Assert.True(code == 0, $"{yaml}: {output}");
        }

        string compose = await File.ReadAllTextAsync(Path.Combine(Deploy, "compose.yaml"));
        var mounts = BindMount().Matches(compose).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(mounts);
        foreach (var source in mounts)
        {
            string path = Path.GetFullPath(Path.Combine(Deploy, source));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"compose mounts {source}, which does not exist");
        }

        Assert.True(Directory.Exists(Path.Combine(CollectorProcess.RepoRoot, "config")), "the Dockerfile copies config/");
    }

    [Fact]
    public void Every_Grafana_panel_queries_a_field_the_Influx_sink_writes()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "compose/grafana/dashboards/edgecollector-kpis.json")));
        // A heat KPI payload as the engine writes it, turned into the point the sink writes.
        var payload = System.Text.Encoding.UTF8.GetBytes("""
            {"schema":"edgecollector.kpi/1","id":"x","rev":0,"seq":1,"site":"s","entity":"F1",
             "window":{"kind":"heat","start":"2026-11-21T08:00:00Z","end":"2026-11-21T10:00:00Z","heatId":"F1-2026112116-001"},
             "metal":{"chargedKg":1,"tappedKg":1,"drossKg":0,"meltYield":1,"meltLossPct":0,"drossRatio":0},
             "energy":{"gasNm3":1,"electricityKWh":1,"energyGJ":1},
             "emissions":{"scope1TCO2e":1,"scope2LocationTCO2e":1,"scope2MarketTCO2e":1,"intensityTCO2ePerT":1},
             "recycled":{"recycledPct":1,"postConsumerPct":1,"preConsumerPct":0},"target":null,
             "factors":{"set":"x"},"quality":{"complete":true,"flags":[]},"producedAt":"2026-11-21T10:00:01Z"}
            """);
        var point = InfluxSink.ToPoint(payload)!;
        var fields = point.Fields.Select(f => f.Key).ToHashSet();
        int panels = 0;
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                string query = target.GetProperty("query").GetString()!;
                Assert.Contains("r._measurement == \"kpi\"", query, StringComparison.Ordinal);
                string field = FluxField().Match(query).Groups[1].Value;
                Assert.True(fields.Contains(field), $"panel '{panel.GetProperty("title").GetString()}' queries field '{field}', which the sink does not write");
                panels++;
            }
        }

        Assert.True(panels >= 5);
        Assert.Equal("kpi", point.Measurement);
    }

    [GeneratedRegex(@"^\s*-\s*(\./[^:\s]+):", RegexOptions.Multiline)]
    private static partial Regex BindMount();

    [GeneratedRegex(@"r\._field == ""([^""]+)""")]
    private static partial Regex FluxField();

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        Assert.True(File.Exists(file), $"{file} is not installed");
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        string output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
