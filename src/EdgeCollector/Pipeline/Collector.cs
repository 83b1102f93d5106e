using System.Threading.Channels;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using Microsoft.Extensions.Logging;

namespace EdgeCollector.Pipeline;

/// <summary>How the collector runs: live (engine time advanced by the clock) or driven by a recording.</summary>
public sealed class CollectorOptions
{
    /// <summary>Advance engine time from the clock between records (live devices). Off when the input is a recording.</summary>
    public bool LiveClock { get; init; } = true;
    /// <summary>Stop when every source has ended, publishing what a replay would at the end (tests, backfill).</summary>
    public bool ExitWhenSourcesEnd { get; init; }
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// How far behind the wall clock live engine time is held, so a sample that reaches the engine a
    /// little late (poll latency, OPC UA publishing interval) still lands at its own timestamp.
    /// </summary>
    public TimeSpan LiveClockLag { get; init; } = TimeSpan.FromSeconds(5);
    public int ChannelCapacity { get; init; } = 10_000;
}

/// <summary>Wires sources → engine → state store → sinks (see the diagram in Pipeline.cs).</summary>
public sealed class Collector
{
    private readonly EdgeConfig _config;
    private readonly IReadOnlyList<IInputSource> _sources;
    private readonly IReadOnlyList<IMessageSink> _sinks;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CollectorOptions _options;
    private readonly SemaphoreSlim _forwardSignal = new(0);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _lastSample = new(StringComparer.Ordinal);
    private readonly IRecordObserver[] _observers;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _perSource = new(StringComparer.Ordinal);
    private long _outboxDepth;

    public Collector(EdgeConfig config, IReadOnlyList<IInputSource> sources, IReadOnlyList<IMessageSink> sinks, ILogger log, TimeProvider time, CollectorOptions options)
    {
        _config = config;
        _sources = sources;
        _sinks = sinks;
        _log = log;
        _time = time;
        _options = options;
        _observers = sinks.OfType<IRecordObserver>().ToArray();
    }

    public PipelineMetrics Metrics { get; } = new();

    /// <summary>The live engine, once started (read-only use by the dashboard).</summary>
    public KpiEngine? Engine { get; private set; }

    /// <summary>
    /// Each source's health: connected when it delivered a usable record within the last 30 s of
    /// wall-clock time (a recording counts as connected while it is being read).
    /// </summary>
    public IReadOnlyDictionary<string, Sinks.SourceHealth> SourceHealth()
    {
        long now = _time.GetUtcNow().UtcTicks;
        // The configured sources (devices, recordings), not the operator inbox.
        return _sources.Where(s => _config.Sources.Any(c => c.Name == s.Name)).ToDictionary(s => s.Name, s =>
        {
            long? last = _lastSample.TryGetValue(s.Name, out long t) ? t : null;
            bool connected = last is long l && (!_options.LiveClock || now - l < 30 * TimeSpan.TicksPerSecond);
            return new Sinks.SourceHealth(connected, last);
        }, StringComparer.Ordinal);
    }

    /// <summary>Connects and errors of each configured source that reports them.</summary>
    public IReadOnlyDictionary<string, ISourceDiagnostics> Diagnostics =>
        _sources.Where(s => _config.Sources.Any(c => c.Name == s.Name)).OfType<ISourceDiagnostics>()
            .ToDictionary(s => ((IInputSource)s).Name, s => s, StringComparer.Ordinal);

    /// <summary>Records received per source since start.</summary>
    public IReadOnlyDictionary<string, long> RecordsPerSource => _perSource;

    /// <summary>Messages committed but not yet taken by every sink (as of the forwarder's last look).</summary>
    public long OutboxDepth => Interlocked.Read(ref _outboxDepth);

    /// <summary>What the dashboard shows, rebuilt on the engine's thread at every checkpoint (read-only once published).</summary>
    public OverviewSnapshot? Overview { get; private set; }

    /// <summary>Set once the collector loop is running; cleared when it ends.</summary>
    public bool Running { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        string dataDir = _config.Storage.DataDir;
        await using var store = await StateStore.OpenAsync(dataDir, stop);
        var (saved, positions) = await store.LoadAsync(stop);
        var model = new PlantModel(_config);
        var engine = new KpiEngine(model, saved)
        {
            Log = message => _log.LogWarning("engine: {Message}", message),
        };
        Engine = engine;
        Overview = OverviewBuilder.Build(engine);
        if (saved is not null)
        {
            _log.LogInformation("Resumed engine state from {Path} at record time {Time}", StateStore.PathIn(dataDir),
                engine.Started ? EngineTime.Format(engine.RecordTime) : "(not started)");
        }

        using var forwarderStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var forwarder = ForwardAsync(dataDir, forwarderStop.Token);

        var channel = Channel.CreateBounded<SourceItem>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var sourcesStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var sourceTasks = _sources.Select(s => RunSourceAsync(s, channel.Writer, positions.TryGetValue(s.Name, out long p) ? p : null, sourcesStop.Token)).ToArray();
        var finite = _sources.Select((s, i) => (s, i)).Where(x => x.s.IsFinite).Select(x => sourceTasks[x.i]).ToArray();
        if (_options.ExitWhenSourcesEnd && finite.Length > 0)
        {
            // A finite run ends with its recordings; the sources that never end (operator inbox) stop with them.
            _ = Task.WhenAll(finite).ContinueWith(_ => sourcesStop.Cancel(), TaskScheduler.Default);
        }

        _ = Task.WhenAll(sourceTasks).ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);

        var messages = new List<OutgoingMessage>();
        var dirtyPositions = new Dictionary<string, long>(StringComparer.Ordinal);
        long lastCommit = _time.GetTimestamp();
        long lastOverview = lastCommit;
        bool dirty = false, overviewStale = false;
        var reader = channel.Reader;
        Task<bool>? waiting = null;
        Running = true;
        try
        {
            while (true)
            {
                waiting ??= reader.WaitToReadAsync(stop).AsTask();
                await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(100), _time, stop));
                if (waiting.IsCompleted)
                {
                    bool more = await waiting;
                    waiting = null;
                    if (!more)
                    {
                        break;
                    }

                    int batch = 0;
                    while (batch++ < 5000 && reader.TryRead(out var item))
                    {
                        Apply(engine, item);
                        messages.AddRange(engine.TakeMessages());
                        if (item.Position >= 0)
                        {
                            dirtyPositions[item.Source] = item.Position;
                        }

                        dirty = true;
                        overviewStale = true;
                    }
                }

                if (overviewStale && _time.GetElapsedTime(lastOverview) >= OverviewInterval)
                {
                    // The dashboard follows the engine within a fifth of a second (issue 9: scale reading → screen < 500 ms).
                    RebuildOverview(engine);
                    lastOverview = _time.GetTimestamp();
                    overviewStale = false;
                }

                if (_options.LiveClock && engine.Started)
                {
                    engine.AdvanceTo((_time.GetUtcNow() - _options.LiveClockLag).UtcTicks);
                    messages.AddRange(engine.TakeMessages());
                }

                if ((dirty || messages.Count > 0) && _time.GetElapsedTime(lastCommit) >= _options.CheckpointInterval)
                {
                    await CommitAsync(store, engine, messages, dirtyPositions, stop);
                    dirty = false;
                    lastCommit = _time.GetTimestamp();
                }
            }

            // Every source has ended.
            if (_options.ExitWhenSourcesEnd)
            {
                engine.FlushAtEnd();
                messages.AddRange(engine.TakeMessages());
            }

            await CommitAsync(store, engine, messages, dirtyPositions, CancellationToken.None);
            if (_options.ExitWhenSourcesEnd)
            {
                await DrainAsync(store, stop);
                return;
            }

            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Graceful stop: keep what was applied.
            await CommitAsync(store, engine, messages, dirtyPositions, CancellationToken.None);
        }
        finally
        {
            Running = false;
            await forwarderStop.CancelAsync();
            try
            {
                await forwarder;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static readonly TimeSpan OverviewInterval = TimeSpan.FromMilliseconds(200);

    private void RebuildOverview(KpiEngine engine)
    {
        try
        {
            Overview = OverviewBuilder.Build(engine);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The dashboard's view must never stop the collector.
            _log.LogError(ex, "overview not rebuilt");
        }
    }

    private void Apply(KpiEngine engine, SourceItem item)
    {
        var record = item.Record;
        Interlocked.Increment(ref Metrics.RecordsIn);
        _perSource.AddOrUpdate(item.Source, 1, (_, n) => n + 1);
        if (record is not TagRecord { Quality: SampleQuality.Bad })
        {
            _lastSample[item.Source] = record.Ticks;
        }

        foreach (var observer in _observers)
        {
            observer.OnRecord(record, item.Source);
        }

        if (engine.Started && record.Ticks < engine.RecordTime)
        {
            // Sources run on different clocks and links; the engine needs time order. A record that
            // arrives behind engine time is applied at engine time (counted), never dropped.
            record = record with { Ticks = engine.RecordTime };
            Interlocked.Increment(ref Metrics.LateRestamped);
        }

        try
        {
            engine.Apply(record);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref Metrics.BadInput);
            _log.LogError(ex, "Record from {Source} at position {Position} could not be applied", item.Source, item.Position);
        }
    }

    private async Task CommitAsync(StateStore store, KpiEngine engine, List<OutgoingMessage> messages, Dictionary<string, long> positions, CancellationToken ct)
    {
        await store.CommitAsync(engine.TakeCheckpoint(), engine.RecordTime, messages, positions, ct);
        RebuildOverview(engine);
        messages.Clear();
        positions.Clear();
        Interlocked.Increment(ref Metrics.Checkpoints);
        _forwardSignal.Release();
    }

    private async Task RunSourceAsync(IInputSource source, ChannelWriter<SourceItem> writer, long? resumeAfter, CancellationToken stop)
    {
        try
        {
            await source.RunAsync(writer, resumeAfter, stop);
            _log.LogInformation("Source {Source} ended", source.Name);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "Source {Source} failed", source.Name);
        }
    }

    private async Task ForwardAsync(string dataDir, CancellationToken stop)
    {
        await using var store = await StateStore.OpenAsync(dataDir, stop);
        var backoff = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            await _forwardSignal.WaitAsync(TimeSpan.FromSeconds(1), stop);
            while (await ForwardBatchAsync(store, stop) is var forwarded && forwarded != 0)
            {
                if (forwarded < 0)
                {
                    await Task.Delay(backoff, _time, stop);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                    break;
                }

                backoff = TimeSpan.FromSeconds(1);
            }
        }
    }

    /// <returns>Messages forwarded, 0 when the outbox is empty, −1 when a sink failed.</returns>
    private async Task<int> ForwardBatchAsync(StateStore store, CancellationToken stop)
    {
        var batch = await store.PeekOutboxAsync(500, stop);
        Interlocked.Exchange(ref _outboxDepth, await store.OutboxDepthAsync(stop));
        if (batch.Count == 0)
        {
            return 0;
        }

        foreach (var sink in _sinks)
        {
            try
            {
                await sink.DeliverAsync(batch, stop);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Interlocked.Increment(ref Metrics.SinkFailures);
                _log.LogWarning(ex, "Sink {Sink} failed; {Count} messages stay in the outbox", sink.Name, batch.Count);
                return -1;
            }
        }

        await store.DeleteUpToAsync(batch[^1].Seq, stop);
        Interlocked.Add(ref Metrics.MessagesForwarded, batch.Count);
        return batch.Count;
    }

    private async Task DrainAsync(StateStore store, CancellationToken stop)
    {
        while (await store.OutboxDepthAsync(stop) > 0)
        {
            _forwardSignal.Release();
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, stop);
        }
    }
}
