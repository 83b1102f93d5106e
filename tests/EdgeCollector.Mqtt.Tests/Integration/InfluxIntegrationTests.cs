using System.Globalization;
using EdgeCollector.Influx;
using EdgeCollector.Mqtt.Tests.Infrastructure;

namespace EdgeCollector.Mqtt.Tests.Integration;

/// <summary>The writer against InfluxDB 1.6 (v1 API, u/p, gzip), read back over /query.</summary>
[Trait("Category", "Integration")]
public sealed class InfluxDb1Tests : IAsyncLifetime
{
    private InfluxDb1Server _db = null!;
    private string _buffer = "";
    private readonly List<string> _log = [];

    public async Task InitializeAsync()
    {
        _db = await InfluxDb1Server.StartAsync();
        _buffer = Net.TempDir("influx-buffer"); // only once the server is up: a failed start leaves nothing behind
    }

    public async Task DisposeAsync()
    {
        if (_db is not null) await _db.DisposeAsync();
        if (_buffer.Length > 0)
        {
            try { Directory.Delete(_buffer, recursive: true); } catch (IOException) { }
        }
    }

    private InfluxWriter Writer(InfluxPrecision precision = InfluxPrecision.Nanoseconds) => InfluxWriter.Start(new InfluxWriterOptions
    {
        Url = _db.Url, Api = InfluxApi.V1, Database = InfluxDb1Server.Database, RetentionPolicy = "autogen",
        UserName = InfluxDb1Server.User, Password = InfluxDb1Server.Password, Precision = precision,
        BufferDirectory = _buffer, BatchSize = 50, FlushInterval = TimeSpan.FromMilliseconds(100),
        RetryMinDelay = TimeSpan.FromMilliseconds(200), RetryMaxDelay = TimeSpan.FromSeconds(1),
        Log = (_, m, _) => { lock (_log) _log.Add(m); },
    });

    [Fact]
    public async Task Points_read_back_with_exact_values_including_escaping_cases()
    {
        var t0 = new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero).AddTicks(1234567); // sub-ms part: ns precision keeps it
        double[] floats = [0.1, 1e20, 123456789.123456789, 5e-324, double.MaxValue, -2.5, 1.0 / 3];
        await using (var writer = Writer())
        {
            for (int i = 0; i < floats.Length; i++)
            {
                writer.Write(new InfluxPoint("kpi minute,site")
                    .Tag("furnace id", "F1,=x y")
                    .Tag("path", "C:\\data")
                    .Tag("i", i.ToString(CultureInfo.InvariantCulture))
                    .Field("gas nm3", floats[i])
                    .Field("count", i == 0 ? long.MinValue : long.MaxValue - i)
                    .Field("ok", i % 2 == 0)
                    .Field("note", $"say \"hi\" C:\\temp\\ {i}")
                    .Timestamp(t0.AddSeconds(i)));
            }
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)), string.Join('\n', _log));
            Assert.Equal(floats.Length, writer.WrittenPoints);
        }

        var rows = await _db.SelectAsync("SELECT * FROM \"kpi minute,site\" ORDER BY time");
        Assert.Equal(floats.Length, rows.Count);
        for (int i = 0; i < floats.Length; i++)
        {
            var r = rows[i];
            Assert.Equal(LineProtocol.ToUnix(t0.AddSeconds(i), InfluxPrecision.Nanoseconds), r["time"].GetInt64());
            Assert.Equal(floats[i], r["gas nm3"].GetDouble());
            Assert.Equal(i == 0 ? long.MinValue : long.MaxValue - i, r["count"].GetInt64());
            Assert.Equal(i % 2 == 0, r["ok"].GetBoolean());
            Assert.Equal($"say \"hi\" C:\\temp\\ {i}", r["note"].GetString());
            Assert.Equal("F1,=x y", r["furnace id"].GetString());
            Assert.Equal("C:\\data", r["path"].GetString());
        }
    }

    [Fact]
    public async Task Refused_points_are_counted_and_the_rest_is_written()
    {
        await using var writer = Writer();
        writer.Write(new InfluxPoint("typed").Field("v", 1.5).Timestamp(DateTimeOffset.UtcNow));
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)));
        writer.Write(new InfluxPoint("typed").Field("v", "now a string").Timestamp(DateTimeOffset.UtcNow.AddSeconds(1))); // field type conflict → 400
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)));
        writer.Write(new InfluxPoint("typed").Field("v", 2.5).Timestamp(DateTimeOffset.UtcNow.AddSeconds(2)));
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, writer.RejectedPoints);
        Assert.Equal(2, writer.WrittenPoints);
        lock (_log) Assert.Contains(_log, l => l.Contains("400", StringComparison.Ordinal) && l.Contains("conflict", StringComparison.Ordinal));
        var rows = await _db.SelectAsync("SELECT v FROM typed");
        Assert.Equal([1.5, 2.5], rows.Select(r => r["v"].GetDouble()));
    }

    [Fact]
    public async Task Database_stopped_and_restarted_mid_stream_loses_no_point()
    {
        const int Total = 400;
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        await using (var writer = Writer(InfluxPrecision.Milliseconds))
        {
            Task outage = Task.CompletedTask;
            for (int i = 0; i < Total; i++)
            {
                writer.Write(new InfluxPoint("stream").Tag("src", "outage").Field("i", (long)i).Timestamp(t0.AddMilliseconds(i)));
                if (i == 100)
                {
                    await _db.StopAsync();
                    outage = Task.Run(async () => { await Task.Delay(5000); await _db.RestartAsync(); });
                }
                await Task.Delay(10);
            }
            await outage.WaitAsync(TimeSpan.FromSeconds(40));
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(30)), string.Join('\n', _log));
            Assert.True(writer.Retries > 0, "the outage must have been noticed");
            Assert.Equal(Total, writer.WrittenPoints);
        }
        var rows = await _db.SelectAsync("SELECT i FROM stream ORDER BY time");
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (long)i), rows.Select(r => r["i"].GetInt64()));
    }
}

/// <summary>The writer against VictoriaMetrics (it accepts /api/v2/write and /write), read back with /api/v1/export.</summary>
[Trait("Category", "Integration")]
public sealed class VictoriaMetricsTests : IAsyncLifetime
{
    private VictoriaMetricsServer _vm = null!;
    private string _buffer = "";
    private readonly List<string> _log = [];

    public async Task InitializeAsync()
    {
        _vm = await VictoriaMetricsServer.StartAsync();
        _buffer = Net.TempDir("vm-buffer");
    }

    public async Task DisposeAsync()
    {
        if (_vm is not null) await _vm.DisposeAsync();
        if (_buffer.Length > 0)
        {
            try { Directory.Delete(_buffer, recursive: true); } catch (IOException) { }
        }
    }

    private InfluxWriter Writer(InfluxApi api) => InfluxWriter.Start(new InfluxWriterOptions
    {
        Url = _vm.Url, Api = api, Org = "plant", Bucket = "edge", Token = "secret-token", Database = "edge",
        Precision = InfluxPrecision.Milliseconds, BufferDirectory = _buffer, BatchSize = 50, FlushInterval = TimeSpan.FromMilliseconds(100),
        RetryMinDelay = TimeSpan.FromMilliseconds(200), RetryMaxDelay = TimeSpan.FromSeconds(1),
        Log = (_, m, _) => { lock (_log) _log.Add(m); },
    });

    [Theory]
    [InlineData(InfluxApi.V2)]
    [InlineData(InfluxApi.V1)]
    public async Task Points_read_back_with_exact_values_including_escaping_cases(InfluxApi api)
    {
        // VictoriaMetrics keeps numbers only (as float64, about 12 significant digits exact): values chosen within that.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        string m = $"kpi minute,{api}";
        double[] values = [1234.5, -0.25, 0.1, 42, 1e-6, 98765.4321];
        await using (var writer = Writer(api))
        {
            for (int i = 0; i < values.Length; i++)
                writer.Write(new InfluxPoint(m).Tag("furnace id", "F1,=x y").Field("gas nm3", values[i]).Field("n", (long)i).Timestamp(now.AddMilliseconds(-i)));
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)), string.Join('\n', _log));
        }
        var series = await _vm.WaitForAsync($"{{__name__=~\"kpi minute,{api}_.*\"}}", s => s.Sum(x => x.Values.Count) >= 2 * values.Length, TimeSpan.FromSeconds(15));
        var gas = Assert.Single(series, s => s.Name == $"{m}_gas nm3");
        var n = Assert.Single(series, s => s.Name == $"{m}_n");
        Assert.Equal("F1,=x y", gas.Labels["furnace id"]);
        var byTime = gas.Timestamps.Zip(gas.Values).ToDictionary(p => p.First, p => p.Second);
        for (int i = 0; i < values.Length; i++)
        {
            long ts = now.AddMilliseconds(-i).ToUnixTimeMilliseconds();
            Assert.Equal(values[i], byTime[ts]);
            Assert.Equal(i, n.Values[n.Timestamps.IndexOf(ts)]);
        }
    }

    [Fact]
    public async Task Database_stopped_and_restarted_mid_stream_loses_no_point()
    {
        const int Total = 400;
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).AddMinutes(-5);
        await using (var writer = Writer(InfluxApi.V2))
        {
            Task outage = Task.CompletedTask;
            for (int i = 0; i < Total; i++)
            {
                writer.Write(new InfluxPoint("stream").Tag("src", "outage").Field("i", (long)i).Timestamp(t0.AddMilliseconds(i)));
                if (i == 100)
                {
                    await _vm.StopAsync();
                    outage = Task.Run(async () => { await Task.Delay(5000); await _vm.RestartAsync(); });
                }
                await Task.Delay(10);
            }
            await outage.WaitAsync(TimeSpan.FromSeconds(40));
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(30)), string.Join('\n', _log));
            Assert.True(writer.Retries > 0, "the outage must have been noticed");
            Assert.Equal(Total, writer.WrittenPoints);
        }
        var series = await _vm.WaitForAsync("{__name__=\"stream_i\"}", s => s.Sum(x => x.Values.Count) >= Total, TimeSpan.FromSeconds(15));
        var s = Assert.Single(series);
        Assert.Equal(Enumerable.Range(0, Total).Select(i => (double)i), s.Timestamps.Zip(s.Values).OrderBy(p => p.First).Select(p => p.Second));
    }
}
