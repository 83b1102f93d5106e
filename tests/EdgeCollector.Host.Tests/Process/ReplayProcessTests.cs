namespace EdgeCollector.Host.Tests.Process;

public sealed class ReplayProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-replay-").FullName;
    private static string Sample => Path.Combine(CollectorProcess.RepoRoot, "config", "sample-shift.jsonl");

    [Fact]
    public async Task Replay_of_the_sample_recording_is_deterministic_byte_for_byte()
    {
        var a = await CollectorProcess.RunAsync(_dir, "replay", "--in", Sample, "--out", "a.jsonl");
        var b = await CollectorProcess.RunAsync(_dir, "replay", "--in", Sample, "--out", "b.jsonl");
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        byte[] first = await File.ReadAllBytesAsync(Path.Combine(_dir, "a.jsonl"));
        Assert.True(first.Length > 100_000, $"replay wrote only {first.Length} bytes");
        Assert.Equal(first, await File.ReadAllBytesAsync(Path.Combine(_dir, "b.jsonl")));
        string text = System.Text.Encoding.UTF8.GetString(first);
        Assert.Contains("/kpi/heat\"", text, StringComparison.Ordinal);
        Assert.Contains("/kpi/shift\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_line_stops_replay_with_exit_2_naming_the_line_and_no_output_file()
    {
        var lines = File.ReadLines(Sample).Take(50).ToList();
        lines[41] = "{\"ts\": \"2026-11-20T00:00:00Z\", \"tag\": ";
        string input = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllLinesAsync(input, lines);
        var r = await CollectorProcess.RunAsync(_dir, "replay", "--in", input, "--out", "out.jsonl");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("line 42", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "out.jsonl")));
        Assert.False(File.Exists(Path.Combine(_dir, "out.jsonl.partial")));
    }

    [Fact]
    public async Task An_out_of_order_line_stops_replay_with_exit_2()
    {
        var lines = File.ReadLines(Sample).Take(30).ToList();
        lines.Add(lines[0]);
        string input = Path.Combine(_dir, "order.jsonl");
        await File.WriteAllLinesAsync(input, lines);
        var r = await CollectorProcess.RunAsync(_dir, "replay", "--in", input, "--out", "out.jsonl");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("line 31", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("earlier than the one before it", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_config_prints_every_problem_with_its_path_and_exits_non_zero()
    {
        string config = Path.Combine(_dir, "bad.json");
        await File.WriteAllTextAsync(config, """
            {
              // comments are allowed
              "Site": { "Id": "x", "TimeZone": "Mars/Base" },
              "Sources": [ { "Name": "m", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": 502,
                 "Tags": [ { "Tag": "P", "Address": 1, "DataType": "Int64", "WordOrder": "ACBD" } ] } ],
              "Furnaces": [ { "Id": "F1", "Meters": [ { "Tag": "Nope", "Kind": "Electricity" } ] } ],
              "Factors": { "Set": "x", "Electricity": { "GridTCO2PerMWh": 0.5366, "Source": "MEE" } },
              "Bogus": 1
            }
            """);
        foreach (var verb in new[] { "check-config", "run" })
        {
            var r = await CollectorProcess.RunAsync(_dir, verb, "--config", config);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("Site.TimeZone: 'Mars/Base'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("Sources[0].Tags[0].WordOrder: 'ACBD' is not one of ABCD, CDAB, BADC, DCBA", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("Furnaces[0].Meters[0].Tag: 'Nope'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("Bogus: unknown key", r.Stderr, StringComparison.Ordinal);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
