using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeCollector.Scales;
using EdgeCollector.Sim.Scales;

// Scale reading → dashboard update latency (issue 9, goal < 500 ms p99).
// Starts the real collector with one Toledo scale behind a simulated serial-to-Ethernet converter,
// subscribes to /api/stream as the dashboard page does, streams N loads, and for every ticket
// measures from its stableAt (the collector's own timestamp of the reading that made it stable)
// to the arrival of the first pushed snapshot that shows it.
// usage: dotnet run -c Release --project bench/dashboard -- [loads=30]
int loads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
string dir = Directory.CreateTempSubdirectory("edge-latency-").FullName;
await using var converter = new ScaleTcpConverter();
string config = Path.Combine(dir, "plant.json");
await File.WriteAllTextAsync(config, $$"""
    {
      "Site": { "Id": "bench", "Name": "bench", "TimeZone": "UTC", "ShiftStarts": ["00:00"] },
      "Sources": [ { "Name": "F1-charge", "Type": "Scale", "Tcp": "{{converter.HostPort}}", "Protocol": "Toledo-Continuous",
                     "StableBandKg": 2, "StableSeconds": 0.3, "ZeroBandKg": 5 } ],
      "Furnaces": [ { "Id": "F1", "Scales": [ { "Source": "F1-charge", "Role": "Charge" } ], "DefaultMaterial": "PostConsumerOther" } ],
      "Factors": { "Set": "bench", "MaterialYield": { "Primary": 0.99, "PreConsumer": 0.97, "PostConsumerUbc": 0.90, "PostConsumerOther": 0.92 }, "MaterialYieldSource": "bench" },
      "Storage": { "DataDir": "data" }
    }
    """);
string host = Path.Combine(AppContext.BaseDirectory, "edgecollector.dll");
var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
foreach (var a in new[] { host, "run", "--config", config, "--set", "Dashboard:Urls=http://127.0.0.1:0" })
{
    psi.ArgumentList.Add(a);
}

using var collector = Process.Start(psi)!;
var output = new System.Text.StringBuilder();
collector.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
collector.BeginOutputReadLine();
collector.BeginErrorReadLine();
try
{
    string url = "";
    for (int i = 0; i < 300 && url.Length == 0; i++)
    {
        await Task.Delay(100);
        lock (output)
        {
            url = Regex.Match(output.ToString(), @"Now listening on: (http://127\.0\.0\.1:\d+)").Groups[1].Value;
        }
    }

    using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
    var seen = new Dictionary<string, double>();
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
    var listen = Task.Run(async () =>
    {
        using var stream = await http.GetStreamAsync("/api/stream", cts.Token);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var now = DateTime.UtcNow;
            using var doc = JsonDocument.Parse(line[6..]);
            foreach (var t in doc.RootElement.GetProperty("furnaces")[0].GetProperty("recentTickets").EnumerateArray())
            {
                string id = t.GetProperty("id").GetString()!;
                if (!seen.ContainsKey(id))
                {
                    seen[id] = (now - t.GetProperty("stableAt").GetDateTime().ToUniversalTime()).TotalMilliseconds;
                }
            }
        }
    }, cts.Token);

    var simulator = new ScaleSimulator(ScaleProtocols.Create("Toledo-Continuous"), new ScaleSimulatorOptions { FrameRateHz = 20 });
    var weights = Enumerable.Range(0, loads).Select(i => 5000m + 37 * i).ToList();
    await converter.RunAsync(simulator, ScaleScenario.Loads(weights), [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(30), cts.Token);
    for (int i = 0; i < 50 && seen.Count < loads; i++)
    {
        await Task.Delay(100);
    }

    var ms = seen.Values.Order().ToList();
    double P(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
    Console.WriteLine($"tickets seen on the dashboard stream: {ms.Count} of {loads}");
    if (ms.Count > 0)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scale reading -> dashboard update: p50 {P(0.5):F0} ms, p90 {P(0.9):F0} ms, p99 {P(0.99):F0} ms, max {ms[^1]:F0} ms"));
    }

    await cts.CancelAsync();
    return ms.Count == loads ? 0 : 1;
}
finally
{
    collector.Kill(entireProcessTree: true);
    Directory.Delete(dir, recursive: true);
}
