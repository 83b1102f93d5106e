using System.Text.Json;

namespace EdgeCollector.Mqtt.Tests.Infrastructure;

/// <summary>
/// InfluxDB 1.6 (<c>influxd -config f</c>) from a generated config in a temp dir, on free loopback ports,
/// with authentication on: an admin user and a database are created over HTTP.
/// </summary>
internal sealed class InfluxDb1Server : IAsyncDisposable
{
    public const string User = "admin";
    public const string Password = "adm1n pw";
    public const string Database = "edge";
    private PeerProcess? _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public string Dir { get; } = Net.TempDir("influxd");
    public int HttpPort { get; } = Net.FreePort();
    public int RpcPort { get; } = Net.FreePort();
    public Uri Url => new($"http://127.0.0.1:{HttpPort}");
    private string ConfigPath => Path.Combine(Dir, "influxdb.conf");

    public static async Task<InfluxDb1Server> StartAsync()
    {
        PeerProcess.Require("/usr/bin/influxd");
        var s = new InfluxDb1Server();
        await File.WriteAllTextAsync(s.ConfigPath, $"""
            reporting-disabled = true
            bind-address = "127.0.0.1:{s.RpcPort}"
            [meta]
              dir = "{s.Dir}/meta"
            [data]
              dir = "{s.Dir}/data"
              wal-dir = "{s.Dir}/wal"
              query-log-enabled = false
            [retention]
              enabled = false
            [monitor]
              store-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:{s.HttpPort}"
              auth-enabled = true
              log-enabled = false
            [logging]
              level = "warn"
            [continuous_queries]
              enabled = false

            """);
        try
        {
            await s.RestartAsync();
            // The first user may be created without credentials while none exists.
            await s.QueryAsync($"CREATE USER {User} WITH PASSWORD '{Password}' WITH ALL PRIVILEGES", auth: false);
            await s.QueryAsync($"CREATE DATABASE {Database}");
            return s;
        }
        catch
        {
            await s.DisposeAsync(); // a failed start must not leave influxd running
            throw;
        }
    }

    public async Task RestartAsync()
    {
        _process?.Dispose();
        _process = PeerProcess.Start("/usr/bin/influxd", ["-config", ConfigPath]);
        await Net.WaitForPortAsync(HttpPort, TimeSpan.FromSeconds(20), _process);
        // The port opens slightly before the HTTP handler is ready.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var r = await _http.GetAsync(new Uri(Url, "/ping"));
                if ((int)r.StatusCode == 204) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException("influxd /ping did not answer 204");
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Signal("TERM");
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(15))) _process.Dispose();
    }

    /// <summary>Runs InfluxQL; returns the JSON response (epoch=ns).</summary>
    public async Task<JsonDocument> QueryAsync(string q, bool auth = true)
    {
        var form = new Dictionary<string, string> { ["q"] = q, ["db"] = Database, ["epoch"] = "ns" };
        // influxd reads u/p from the query string (or basic auth), not from a form body.
        string credentials = auth ? $"?u={Uri.EscapeDataString(User)}&p={Uri.EscapeDataString(Password)}" : "";
        using var response = await _http.PostAsync(new Uri(Url, "/query" + credentials), new FormUrlEncodedContent(form));
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || body.Contains("\"error\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"query '{q}' failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Rows of the first series as column name → value.</summary>
    public async Task<List<Dictionary<string, JsonElement>>> SelectAsync(string q)
    {
        using var doc = await QueryAsync(q);
        var result = doc.RootElement.GetProperty("results")[0];
        var rows = new List<Dictionary<string, JsonElement>>();
        if (!result.TryGetProperty("series", out var series)) return rows;
        foreach (var s in series.EnumerateArray())
        {
            var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
            foreach (var v in s.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>();
                int i = 0;
                foreach (var cell in v.EnumerateArray()) row[columns[i++]] = cell.Clone();
                rows.Add(row);
            }
        }
        return rows;
    }

    public string Log => _process?.Output ?? "";

    public async ValueTask DisposeAsync()
    {
        _process?.Dispose();
        _http.Dispose();
        await Task.Yield();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>VictoriaMetrics (<c>victoria-metrics -httpListenAddr=127.0.0.1:PORT -storageDataPath=tmp</c>).</summary>
internal sealed class VictoriaMetricsServer : IAsyncDisposable
{
    private PeerProcess? _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public string Dir { get; } = Net.TempDir("vm");
    public int Port { get; } = Net.FreePort();
    public Uri Url => new($"http://127.0.0.1:{Port}");

    public static async Task<VictoriaMetricsServer> StartAsync()
    {
        PeerProcess.Require("/usr/bin/victoria-metrics");
        var s = new VictoriaMetricsServer();
        try
        {
            await s.RestartAsync();
            return s;
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
    }

    public async Task RestartAsync()
    {
        _process?.Dispose();
        _process = PeerProcess.Start("/usr/bin/victoria-metrics", [
            $"-httpListenAddr=127.0.0.1:{Port}", $"-storageDataPath={Path.Combine(Dir, "data")}", "-loggerLevel=ERROR"]);
        await Net.WaitForPortAsync(Port, TimeSpan.FromSeconds(20), _process);
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Signal("TERM");
        if (!await _process.WaitForExitAsync(TimeSpan.FromSeconds(15))) _process.Dispose();
    }

    public sealed record Series(string Name, Dictionary<string, string> Labels, List<double> Values, List<long> Timestamps);

    /// <summary>/api/v1/export for a series selector (after forcing a flush so fresh rows are searchable).</summary>
    public async Task<List<Series>> ExportAsync(string match)
    {
        using (await _http.GetAsync(new Uri(Url, "/internal/force_flush"))) { }
        using var response = await _http.PostAsync(new Uri(Url, "/api/v1/export"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["match[]"] = match }));
        string body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"export failed: {(int)response.StatusCode} {body}");
        var list = new List<Series>();
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var labels = doc.RootElement.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            string name = labels["__name__"];
            labels.Remove("__name__");
            list.Add(new Series(name, labels,
                doc.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList(),
                doc.RootElement.GetProperty("timestamps").EnumerateArray().Select(v => v.GetInt64()).ToList()));
        }
        return list;
    }

    /// <summary>Polls the export (bounded) until <paramref name="done"/> holds; returns the last answer.</summary>
    public async Task<List<Series>> WaitForAsync(string match, Func<List<Series>, bool> done, TimeSpan timeout)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        List<Series> last = [];
        while (sw.Elapsed < timeout)
        {
            last = await ExportAsync(match);
            if (done(last)) return last;
            await Task.Delay(250);
        }
        return last;
    }

    public async ValueTask DisposeAsync()
    {
        _process?.Dispose();
        _http.Dispose();
        await Task.Yield();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
