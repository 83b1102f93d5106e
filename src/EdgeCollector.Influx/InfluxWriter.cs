using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace EdgeCollector.Influx;

/// <summary>Which HTTP write API to use.</summary>
public enum InfluxApi
{
    /// <summary>InfluxDB 1.x <c>/write?db=&amp;rp=&amp;precision=</c> with <c>u</c>/<c>p</c>.</summary>
    V1,
    /// <summary>InfluxDB 2/3 <c>/api/v2/write?org=&amp;bucket=&amp;precision=</c> with <c>Authorization: Token …</c>.</summary>
    V2,
}

/// <summary>Severity for <see cref="InfluxLogCallback"/>.</summary>
public enum InfluxLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>Log sink (a plain delegate until Microsoft.Extensions.Logging.Abstractions is pinned centrally).</summary>
public delegate void InfluxLogCallback(InfluxLogLevel level, string message, Exception? exception);

/// <summary>Settings of <see cref="InfluxWriter"/>.</summary>
public sealed class InfluxWriterOptions
{
    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8086</c>.</summary>
    public required Uri Url { get; init; }
    public InfluxApi Api { get; init; } = InfluxApi.V2;
    public string? Org { get; init; }
    public string? Bucket { get; init; }
    /// <summary>The token itself (the host reads it from the environment variable named in config).</summary>
    public string? Token { get; init; }
    public string? Database { get; init; }
    public string? RetentionPolicy { get; init; }
    public string? UserName { get; init; }
    public string? Password { get; init; }
    public InfluxPrecision Precision { get; init; } = InfluxPrecision.Milliseconds;

    /// <summary>A batch is sealed when it holds this many points …</summary>
    public int BatchSize { get; init; } = 5000;
    /// <summary>… or when its oldest point is this old (checked every quarter of it, 10 ms – 1 s).</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Compress request bodies (<c>Content-Encoding: gzip</c>).</summary>
    public bool Gzip { get; init; } = true;

    /// <summary>Directory of the disk buffer (sealed batches waiting to be written).</summary>
    public required string BufferDirectory { get; init; }
    /// <summary>Most bytes the disk buffer may hold; beyond it the oldest batches are dropped (counted, logged).</summary>
    public long MaxBufferBytes { get; init; } = 256L * 1024 * 1024;

    public TimeSpan RetryMinDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public InfluxLogCallback? Log { get; init; }
}

/// <summary>
/// Writes points to InfluxDB over HTTP.
/// <code>
/// Write(point) ─► current batch ─(BatchSize or FlushInterval)─► sealed batch file in BufferDirectory
///                                                                 │ oldest first
///                                                                 ▼
///                                         POST (gzip) ─ 2xx: delete file
///                                                     ─ 429/5xx/network: back off (Retry-After honoured), retry
///                                                     ─ other 4xx: log with the server's message, count, delete
/// </code>
/// Every batch is on disk before its first send and is removed only after the database answered, so points
/// survive a database outage and a restart of the collector; the points of the batch still being filled (at
/// most <see cref="InfluxWriterOptions.FlushInterval"/> old) are the only ones held in memory alone.
/// </summary>
public sealed class InfluxWriter : IAsyncDisposable
{
    private readonly InfluxWriterOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _sealed = new(0, int.MaxValue);
    private readonly SemaphoreSlim _sealNow = new(0, 1);
    private readonly SemaphoreSlim _fileLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private StringBuilder _batch = new();
    private int _batchPoints;
    private long _batchStartedTicks; // Stopwatch timestamp of the oldest point in _batch
    private readonly List<(string Text, int Points)> _ready = []; // full batches, in order, waiting to be sealed
    private long _nextFileSeq;
    private Task _sealLoop = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private long _accepted, _written, _rejected, _dropped, _retries;
    private volatile bool _disposed;

    private InfluxWriter(InfluxWriterOptions options, HttpClient? http)
    {
        _options = options;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
    }

    /// <summary>Points accepted by <see cref="Write"/>.</summary>
    public long AcceptedPoints => Interlocked.Read(ref _accepted);
    /// <summary>Points the database acknowledged (2xx).</summary>
    public long WrittenPoints => Interlocked.Read(ref _written);
    /// <summary>Points in batches the database refused with a 4xx other than 429 (not retried).</summary>
    public long RejectedPoints => Interlocked.Read(ref _rejected);
    /// <summary>Points dropped because the disk buffer was full.</summary>
    public long DroppedPoints => Interlocked.Read(ref _dropped);
    /// <summary>Failed attempts that will be (or were) retried.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>Sealed batches on disk waiting to be written.</summary>
    public int BufferedBatches => ListBatchFiles().Count;

    /// <summary>Creates the writer, picks up batches left on disk by a previous run, and starts its loops.</summary>
    public static InfluxWriter Start(InfluxWriterOptions options, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Api == InfluxApi.V2 && string.IsNullOrEmpty(options.Bucket)) throw new ArgumentException("Bucket is required for the v2 API.", nameof(options));
        if (options.Api == InfluxApi.V1 && string.IsNullOrEmpty(options.Database)) throw new ArgumentException("Database is required for the v1 API.", nameof(options));
        Directory.CreateDirectory(options.BufferDirectory);
        var writer = new InfluxWriter(options, http);
        var existing = writer.ListBatchFiles();
        writer._nextFileSeq = existing.Count == 0 ? 1 : existing[^1].Seq + 1;
        foreach (var tmp in Directory.EnumerateFiles(options.BufferDirectory, "*.tmp")) File.Delete(tmp); // torn seal from a crash: never acknowledged
        writer._sealLoop = Task.Run(() => writer.SealLoopAsync(writer._stop.Token));
        writer._sendLoop = Task.Run(() => writer.SendLoopAsync(writer._stop.Token));
        return writer;
    }

    /// <summary>Accepts one point (formatted and validated now; throws <see cref="InfluxLineProtocolException"/> if it cannot be written).</summary>
    public void Write(InfluxPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string line = point.ToLineProtocol(_options.Precision);
        bool full;
        lock (_gate)
        {
            if (_batchPoints == 0) _batchStartedTicks = System.Diagnostics.Stopwatch.GetTimestamp();
            _batch.Append(line).Append('\n');
            _batchPoints++;
            full = _batchPoints >= _options.BatchSize;
            if (full)
            {
                _ready.Add((_batch.ToString(), _batchPoints));
                _batch = new StringBuilder();
                _batchPoints = 0;
            }
        }
        Interlocked.Increment(ref _accepted);
        if (full) SignalSeal();
    }

    /// <summary>Seals the current batch and waits until the disk buffer is empty; false if that takes longer than <paramref name="timeout"/>.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await SealAsync(includePartial: true, cancellationToken);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (ListBatchFiles().Count == 0) return true;
            await Task.Delay(25, cancellationToken);
        }
        return ListBatchFiles().Count == 0;
    }

    private void SignalSeal()
    {
        try { _sealNow.Release(); } catch (SemaphoreFullException) { }
    }

    private async Task SealLoopAsync(CancellationToken stop)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_options.FlushInterval.TotalMilliseconds / 4, 10, 1000));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _sealNow.WaitAsync(tick, stop);
                bool due;
                lock (_gate)
                {
                    due = _batchPoints > 0 &&
                        System.Diagnostics.Stopwatch.GetElapsedTime(_batchStartedTicks) >= _options.FlushInterval;
                }
                await SealAsync(includePartial: due, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _options.Log?.Invoke(InfluxLogLevel.Error, "Sealing an InfluxDB batch to disk failed; retrying", ex);
                try { await Task.Delay(500, stop); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// Moves the full batches and the partial one to durable files, in order (each written to .tmp with
    /// O_SYNC, then renamed).
    /// </summary>
    private async Task SealAsync(bool includePartial, CancellationToken cancellationToken)
    {
        await _fileLock.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                if (includePartial && _batchPoints > 0)
                {
                    _ready.Add((_batch.ToString(), _batchPoints));
                    _batch = new StringBuilder();
                    _batchPoints = 0;
                }
            }
            while (true)
            {
                (string Text, int Points) next;
                lock (_gate)
                {
                    if (_ready.Count == 0) return;
                    next = _ready[0];
                }
                byte[] bytes = Encoding.UTF8.GetBytes(next.Text);
                long seq = _nextFileSeq;
                string final = Path.Combine(_options.BufferDirectory, $"{seq:D12}-{next.Points}.lp");
                string tmp = final + ".tmp";
                await using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous | FileOptions.WriteThrough))
                {
                    await fs.WriteAsync(bytes, CancellationToken.None);
                }
                File.Move(tmp, final);
                _nextFileSeq++;
                // Only now, with the file in place, does the batch leave memory: a failed write is retried.
                lock (_gate) _ready.RemoveAt(0);
                EnforceBufferLimit();
                _sealed.Release();
            }
        }
        finally
        {
            _fileLock.Release();
        }
    }

    private void EnforceBufferLimit()
    {
        var files = ListBatchFiles();
        long total = files.Sum(f => f.Bytes);
        int i = 0;
        // Keep at least the newest batch.
        while (total > _options.MaxBufferBytes && i < files.Count - 1)
        {
            var victim = files[i++];
            try
            {
                File.Delete(victim.Path);
                total -= victim.Bytes;
                long dropped = Interlocked.Add(ref _dropped, victim.Points);
                _options.Log?.Invoke(InfluxLogLevel.Warning,
                    $"InfluxDB disk buffer over {_options.MaxBufferBytes} bytes: dropped the oldest batch ({victim.Points} points); {dropped} points dropped so far", null);
            }
            catch (IOException)
            {
                // Being sent right now; it goes away by itself.
            }
        }
    }

    private sealed record BatchFile(string Path, long Seq, int Points, long Bytes);

    private List<BatchFile> ListBatchFiles()
    {
        var list = new List<BatchFile>();
        foreach (var path in Directory.EnumerateFiles(_options.BufferDirectory, "*.lp"))
        {
            var name = System.IO.Path.GetFileNameWithoutExtension(path).Split('-');
            if (name.Length != 2 || !long.TryParse(name[0], NumberStyles.None, CultureInfo.InvariantCulture, out long seq) ||
                !int.TryParse(name[1], NumberStyles.None, CultureInfo.InvariantCulture, out int points)) continue;
            long bytes;
            try { bytes = new FileInfo(path).Length; } catch (IOException) { continue; }
            list.Add(new BatchFile(path, seq, points, bytes));
        }
        list.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return list;
    }

    private async Task SendLoopAsync(CancellationToken stop)
    {
        int failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var files = ListBatchFiles();
                if (files.Count == 0)
                {
                    await _sealed.WaitAsync(TimeSpan.FromSeconds(1), stop);
                    continue;
                }
                var file = files[0];
                byte[] body;
                try { body = await File.ReadAllBytesAsync(file.Path, stop); }
                catch (FileNotFoundException) { continue; } // dropped by the buffer limit meanwhile

                var outcome = await SendAsync(body, file, stop);
                if (outcome.Delay is null)
                {
                    failures = 0;
                    File.Delete(file.Path);
                    continue;
                }
                Interlocked.Increment(ref _retries);
                var delay = outcome.Delay.Value;
                if (delay == TimeSpan.Zero) delay = Backoff(failures);
                failures++;
                await Task.Delay(delay, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _options.Log?.Invoke(InfluxLogLevel.Error, "InfluxDB send loop fault; retrying", ex);
                try { await Task.Delay(Backoff(failures++), stop); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Exponential back-off with jitter: min(max, min × 2^n) × U[0.5, 1).</summary>
    private TimeSpan Backoff(int failures)
    {
        double ms = Math.Min(_options.RetryMaxDelay.TotalMilliseconds, _options.RetryMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 30)));
        return TimeSpan.FromMilliseconds(ms * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>Delay null: done with this batch (written or refused for good). Zero: retry after back-off. Else: retry after that.</summary>
    private readonly record struct Outcome(TimeSpan? Delay);

    private async Task<Outcome> SendAsync(byte[] body, BatchFile file, CancellationToken stop)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, BuildWriteUri());
        byte[] payload = body;
        if (_options.Gzip)
        {
            using var ms = new MemoryStream();
            await using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
                await gz.WriteAsync(body, stop);
            payload = ms.ToArray();
        }
        request.Content = new ByteArrayContent(payload);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        if (_options.Gzip) request.Content.Headers.ContentEncoding.Add("gzip");
        if (_options.Api == InfluxApi.V2 && !string.IsNullOrEmpty(_options.Token))
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", _options.Token);

        HttpResponseMessage response;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            response = await _http.SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !stop.IsCancellationRequested))
        {
            _options.Log?.Invoke(InfluxLogLevel.Warning, $"InfluxDB unreachable ({ex.Message}); {file.Points} points kept on disk, retrying", null);
            return new Outcome(TimeSpan.Zero);
        }
        using (response)
        {
            int status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                Interlocked.Add(ref _written, file.Points);
                return new Outcome(null);
            }
            string text = await response.Content.ReadAsStringAsync(stop);
            if (text.Length > 2000) text = text[..2000] + "…";
            if (status == 429 || status >= 500)
            {
                var retryAfter = RetryAfter(response);
                _options.Log?.Invoke(InfluxLogLevel.Warning,
                    $"InfluxDB answered {status}{(retryAfter is { } ra ? $" (Retry-After {ra.TotalSeconds:0.###} s)" : "")}: {text}; retrying", null);
                return new Outcome(retryAfter is { } d ? Clamp(d) : TimeSpan.Zero);
            }
            // Other 4xx: the data itself is refused. Retrying cannot help; the server's message names the offending line.
            Interlocked.Add(ref _rejected, file.Points);
            _options.Log?.Invoke(InfluxLogLevel.Error,
                $"InfluxDB refused a batch of {file.Points} points with {status}: {text} (first line: {FirstLine(body)}); not retried", null);
            return new Outcome(null);
        }
    }

    private TimeSpan Clamp(TimeSpan d) => d < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : d > _options.RetryMaxDelay ? _options.RetryMaxDelay : d;

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var h = response.Headers.RetryAfter;
        if (h?.Delta is { } delta) return delta;
        if (h?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    private static string FirstLine(byte[] body)
    {
        int n = Array.IndexOf(body, (byte)'\n');
        return Encoding.UTF8.GetString(body, 0, n < 0 ? Math.Min(body.Length, 500) : Math.Min(n, 500));
    }

    /// <summary>The write URL for the configured API.</summary>
    public Uri BuildWriteUri()
    {
        var q = new List<string>();
        void Add(string k, string? v)
        {
            if (!string.IsNullOrEmpty(v)) q.Add($"{k}={Uri.EscapeDataString(v)}");
        }
        string path;
        if (_options.Api == InfluxApi.V2)
        {
            path = "api/v2/write";
            Add("org", _options.Org);
            Add("bucket", _options.Bucket);
            Add("precision", _options.Precision switch
            {
                InfluxPrecision.Nanoseconds => "ns", InfluxPrecision.Microseconds => "us", InfluxPrecision.Milliseconds => "ms", _ => "s",
            });
        }
        else
        {
            path = "write";
            Add("db", _options.Database);
            Add("rp", _options.RetentionPolicy);
            Add("precision", _options.Precision switch
            {
                InfluxPrecision.Nanoseconds => "ns", InfluxPrecision.Microseconds => "u", InfluxPrecision.Milliseconds => "ms", _ => "s",
            });
            Add("u", _options.UserName);
            Add("p", _options.Password);
        }
        var baseUri = _options.Url.AbsoluteUri.EndsWith('/') ? _options.Url : new Uri(_options.Url.AbsoluteUri + "/");
        return new Uri(baseUri, path + "?" + string.Join('&', q));
    }

    /// <summary>
    /// Seals the current batch to disk and stops. Batches not yet written stay in the buffer directory and are
    /// sent by the next writer started on it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try { await SealAsync(includePartial: true, CancellationToken.None); }
        catch (Exception ex) { _options.Log?.Invoke(InfluxLogLevel.Error, "Final seal of the InfluxDB batch failed", ex); }
        await _stop.CancelAsync();
        try { await Task.WhenAll(_sealLoop, _sendLoop); } catch (OperationCanceledException) { }
        if (_ownsHttp) _http.Dispose();
        _stop.Dispose();
    }
}
