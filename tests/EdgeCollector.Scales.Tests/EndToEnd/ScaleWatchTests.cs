using System.Text.Json;
using EdgeCollector.Sim.Scales;

namespace EdgeCollector.Scales.Tests.EndToEnd;

[Trait("Category", "Integration")]
[Collection(RealTimeCollection.Name)]
public sealed class ScaleWatchTests
{
    [Fact]
    public async Task Watch_over_tcp_prints_one_json_line_per_reading()
    {
        await using var converter = new ScaleTcpConverter();
        var codec = ScaleProtocols.Create(ScaleProtocols.MtSics);
        var samples = Enumerable.Range(0, 10).Select(i => new ScaleSample(100m + i, i % 2 == 0, ScalePhase.Sitting, 0)).ToList();
        var simulator = new ScaleSimulator(codec, new ScaleSimulatorOptions { FrameRateHz = 50 });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var serve = converter.RunAsync(simulator, samples, [], ScaleDropMode.Graceful, TimeSpan.FromSeconds(10), cts.Token);
        var readings = new StringWriter();
        var status = new StringWriter();
        var options = new ScaleWatchOptions { Protocol = "mt-sics", Tcp = converter.HostPort, Name = "ladle" };

        var watch = ScaleWatch.RunAsync(options, readings, status, cts.Token);
        await Support.Wait.BoundedAsync(serve, TimeSpan.FromSeconds(20), "the converter");
        await Support.Wait.UntilAsync(() => status.ToString().Contains("Disconnected: end of stream", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "end of stream");
        await cts.CancelAsync();
        await Support.Wait.BoundedAsync(watch, TimeSpan.FromSeconds(10), "watch to stop");

        var lines = readings.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal("ladle", doc.RootElement.GetProperty("scale").GetString());
            Assert.Equal(100m + i, doc.RootElement.GetProperty("grossKg").GetDecimal());
            Assert.Equal(i % 2 == 0, doc.RootElement.GetProperty("motion").GetBoolean());
            Assert.EndsWith("Z", doc.RootElement.GetProperty("ts").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("ladle Connected", status.ToString(), StringComparison.Ordinal);
        Assert.Contains("# frames 10, readings 10", status.ToString(), StringComparison.Ordinal);
    }
}
