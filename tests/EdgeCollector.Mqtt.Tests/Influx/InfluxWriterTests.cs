using System.IO.Compression;
using System.Net;
using System.Text;
using EdgeCollector.Influx;
using EdgeCollector.Mqtt.Tests.Infrastructure;

namespace EdgeCollector.Mqtt.Tests.Influx;

/// <summary>Scripted HTTP answers for retry / refusal behaviour.</summary>
internal sealed class ScriptedHandler(Func<HttpRequestMessage, string, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private int _calls;
    public List<(HttpRequestMessage Request, string Body, DateTime At)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] raw = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        string body = request.Content.Headers.ContentEncoding.Contains("gzip")
            ? new StreamReader(new GZipStream(new MemoryStream(raw), CompressionMode.Decompress)).ReadToEnd()
            : Encoding.UTF8.GetString(raw);
        int n = Interlocked.Increment(ref _calls);
        lock (Requests) Requests.Add((request, body, DateTime.UtcNow));
        return respond(request, body, n);
    }
}

public sealed class InfluxWriterTests : IDisposable
{
    private readonly string _dir = Net.TempDir("influx-unit");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private InfluxWriterOptions Options(InfluxApi api, List<string>? log = null, int batch = 1000) => new()
    {
        Url = new Uri("http://127.0.0.1:1"), Api = api, Org = "plant", Bucket = "edge", Token = "tok en", Database = "edge", RetentionPolicy = "autogen",
        UserName = "u", Password = "p&w", BufferDirectory = _dir, BatchSize = batch, FlushInterval = TimeSpan.FromMilliseconds(100),
        RetryMinDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromSeconds(2),
        Log = (_, m, _) => { if (log is not null) lock (log) log.Add(m); },
    };

    [Fact]
    public async Task V2_request_carries_org_bucket_precision_token_and_gzip()
    {
        var handler = new ScriptedHandler((_, _, _) => new HttpResponseMessage(HttpStatusCode.NoContent));
        await using (var writer = InfluxWriter.Start(Options(InfluxApi.V2), new HttpClient(handler)))
        {
            writer.Write(new InfluxPoint("m").Tag("t", "a b").Field("v", 1.5).Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(1000)));
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(1, writer.WrittenPoints);
        }
        var (request, body, _) = Assert.Single(handler.Requests);
        Assert.Equal("http://127.0.0.1:1/api/v2/write?org=plant&bucket=edge&precision=ms", request.RequestUri!.AbsoluteUri);
        Assert.Equal("Token tok en", request.Headers.Authorization!.ToString());
        Assert.Contains("gzip", request.Content!.Headers.ContentEncoding);
        Assert.Equal("m,t=a\\ b v=1.5 1000\n", body);
    }

    [Fact]
    public async Task V1_request_carries_db_rp_precision_and_credentials()
    {
        var handler = new ScriptedHandler((_, _, _) => new HttpResponseMessage(HttpStatusCode.NoContent));
        await using (var writer = InfluxWriter.Start(Options(InfluxApi.V1), new HttpClient(handler)))
        {
            writer.Write(new InfluxPoint("m").Field("v", 1L));
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(5)));
        }
        var (request, _, _) = Assert.Single(handler.Requests);
        Assert.Equal("http://127.0.0.1:1/write?db=edge&rp=autogen&precision=ms&u=u&p=p%26w", request.RequestUri!.AbsoluteUri);
        Assert.Null(request.Headers.Authorization);
    }

    [Fact]
    public async Task Batches_by_size_and_by_time()
    {
        var handler = new ScriptedHandler((_, _, _) => new HttpResponseMessage(HttpStatusCode.NoContent));
        var o = Options(InfluxApi.V2, batch: 10);
        await using var writer = InfluxWriter.Start(new InfluxWriterOptions
        {
            Url = o.Url, Bucket = "edge", BufferDirectory = _dir, BatchSize = 10, FlushInterval = TimeSpan.FromSeconds(3),
        }, new HttpClient(handler));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 25; i++) writer.Write(new InfluxPoint("m").Field("v", (long)i));
        // 2 full batches go by size at once; the last 5 only when the oldest of them is 3 s old.
        while (writer.WrittenPoints < 20 && sw.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        Assert.Equal(20, writer.WrittenPoints);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2.5), "full batches must not wait for the interval");
        while (writer.WrittenPoints < 25 && sw.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        Assert.Equal(25, writer.WrittenPoints);
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(3), "a partial batch waits for the flush interval");
        var sizes = handler.Requests.Select(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length).ToList();
        Assert.Equal([10, 10, 5], sizes);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"m v={i}i"), handler.Requests.SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task Retries_5xx_and_429_honouring_retry_after_then_succeeds()
    {
        var handler = new ScriptedHandler((_, _, n) => n switch
        {
            1 => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            2 => new HttpResponseMessage((HttpStatusCode)429) { Headers = { RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1)) } },
            _ => new HttpResponseMessage(HttpStatusCode.NoContent),
        });
        var log = new List<string>();
        await using var writer = InfluxWriter.Start(Options(InfluxApi.V2, log), new HttpClient(handler));
        writer.Write(new InfluxPoint("m").Field("v", 1L));
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("m v=1i\n", r.Body));
        Assert.True(handler.Requests[2].At - handler.Requests[1].At >= TimeSpan.FromMilliseconds(950), "Retry-After: 1 must be honoured");
        Assert.Equal(2, writer.Retries);
        Assert.Equal(1, writer.WrittenPoints);
        Assert.Contains(log, l => l.Contains("Retry-After 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Other_4xx_is_logged_with_the_offending_line_counted_and_not_retried()
    {
        var handler = new ScriptedHandler((_, body, _) => body.Contains("bad", StringComparison.Ordinal)
            ? new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("{\"error\":\"partial write: field type conflict: bad v=1i\"}") }
            : new HttpResponseMessage(HttpStatusCode.NoContent));
        var log = new List<string>();
        await using var writer = InfluxWriter.Start(Options(InfluxApi.V2, log), new HttpClient(handler));
        writer.Write(new InfluxPoint("bad").Field("v", 1L));
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(5)));
        writer.Write(new InfluxPoint("good").Field("v", 1L));
        Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(1, writer.RejectedPoints);
        Assert.Equal(1, writer.WrittenPoints);
        Assert.Contains(log, l => l.Contains("400", StringComparison.Ordinal) && l.Contains("bad v=1i", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Points_buffered_during_an_outage_survive_a_writer_restart()
    {
        bool up = false;
        var handler = new ScriptedHandler((_, _, _) => up ? new HttpResponseMessage(HttpStatusCode.NoContent) : throw new HttpRequestException("connection refused"));
        await using (var writer = InfluxWriter.Start(Options(InfluxApi.V2), new HttpClient(handler)))
        {
            for (int i = 0; i < 30; i++) writer.Write(new InfluxPoint("m").Field("v", (long)i));
            Assert.False(await writer.FlushAsync(TimeSpan.FromMilliseconds(300)));
        }
        Assert.NotEmpty(Directory.GetFiles(_dir, "*.lp"));
        up = true;
        await using (var writer = InfluxWriter.Start(Options(InfluxApi.V2), new HttpClient(handler)))
        {
            Assert.True(await writer.FlushAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(30, writer.WrittenPoints);
        }
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"m v={i}i"),
            handler.Requests.Last().Body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Full_disk_buffer_drops_oldest_batches_and_counts_them()
    {
        var handler = new ScriptedHandler((_, _, _) => throw new HttpRequestException("down"));
        var log = new List<string>();
        var o = Options(InfluxApi.V2, log, batch: 10);
        await using var writer = InfluxWriter.Start(new InfluxWriterOptions
        {
            Url = o.Url, Bucket = "edge", BufferDirectory = _dir, BatchSize = 10, FlushInterval = TimeSpan.FromSeconds(30),
            MaxBufferBytes = 250, RetryMinDelay = TimeSpan.FromSeconds(5), Log = o.Log,
        }, new HttpClient(handler));
        for (int i = 0; i < 50; i++) writer.Write(new InfluxPoint("m").Field("v", (long)i)); // 10 lines ≈ 80-90 bytes per batch
        await writer.FlushAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(writer.DroppedPoints >= 20, $"dropped {writer.DroppedPoints}");
        Assert.True(Directory.GetFiles(_dir, "*.lp").Sum(f => new FileInfo(f).Length) <= 250);
        Assert.Contains(log, l => l.Contains("dropped the oldest batch", StringComparison.Ordinal));
    }
}
