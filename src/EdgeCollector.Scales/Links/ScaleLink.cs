using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace EdgeCollector.Scales;

/// <summary>
/// One link to one weight indicator: opens the stream (serial port or TCP to a serial-to-Ethernet
/// converter), decodes frames, re-synchronises after garbage, reports silence, and reopens after
/// a lost link with back-off.
/// </summary>
/// <remarks>
/// <code>
///  opener ──Stream──► PipeReader ──bytes──► ScaleCodec.Decode ──frames──► ScaleReading ──► ChannelWriter&lt;ScaleEvent&gt;
///     ▲                                        │ rejected: count, skip, decode again              ▲
///     └── back-off ◄── Disconnected ◄── EOF / I/O error            silence timer ── Silent / Connected
/// </code>
/// Every I/O failure goes through one path: the stream is disposed, <see cref="ScaleLinkState.Disconnected"/>
/// is reported with the reason, and the link reopens after the back-off.
/// </remarks>
public sealed class ScaleLink
{
    private readonly ScaleCodec _codec;
    private readonly Func<CancellationToken, ValueTask<Stream>> _open;
    private readonly ChannelWriter<ScaleEvent> _events;
    private readonly ScaleLinkOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _stateLock = new();
    private ScaleLinkState _state = ScaleLinkState.Disconnected;
    private long _lastFrameTicks;
    private CancellationTokenSource? _connection;
    private bool _garbageRunOpen; // a skip reached the end of the buffer: what follows in the next read is the same damaged run
    private long _frames, _readings, _withoutWeight, _rejected, _garbage, _skipped, _connects, _dropped;

    /// <summary>Creates the link; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="codec">The protocol (see <see cref="ScaleProtocols.Create"/>).</param>
    /// <param name="open">Opens the byte stream; called again after every failure. See <see cref="ScaleStreams"/>.</param>
    /// <param name="events">Receives readings and state changes (written with <c>TryWrite</c>; use an unbounded channel or count drops).</param>
    /// <param name="options">Name, silence timeout and back-off.</param>
    /// <param name="time">Clock for timestamps, silence and back-off; <see cref="TimeProvider.System"/> when null.</param>
    public ScaleLink(ScaleCodec codec, Func<CancellationToken, ValueTask<Stream>> open, ChannelWriter<ScaleEvent> events, ScaleLinkOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _codec = codec;
        _open = open;
        _events = events;
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The current state.</summary>
    public ScaleLinkState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    /// <summary>The counters so far.</summary>
    public ScaleLinkStatistics Statistics => new(
        Interlocked.Read(ref _frames),
        Interlocked.Read(ref _readings),
        Interlocked.Read(ref _withoutWeight),
        Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _garbage),
        Interlocked.Read(ref _skipped),
        Interlocked.Read(ref _connects),
        Interlocked.Read(ref _dropped));

    /// <summary>
    /// Reads until <paramref name="cancellationToken"/> fires, reopening the link whenever it fails.
    /// Faults of the link never escape; the returned task completes when cancelled. Call it once.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(_options.SilenceTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10));
        using var silenceTimer = _time.CreateTimer(_ => CheckSilence(), null, period, period);
        var delay = _options.ReconnectDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            long framesBefore = Interlocked.Read(ref _frames);
            Stream? stream = null;
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Volatile.Write(ref _connection, connection);
            try
            {
                SetState(ScaleLinkState.Connecting, null);
                stream = await _open(connection.Token);
                Interlocked.Increment(ref _connects);
                Interlocked.Exchange(ref _lastFrameTicks, _time.GetTimestamp());
                SetState(ScaleLinkState.Connected, null);
                await ReadFramesAsync(stream, connection.Token);
                reason = "end of stream";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                reason = "stopped";
            }
            catch (OperationCanceledException) when (connection.IsCancellationRequested)
            {
                reason = $"no valid frame for {_options.ReopenAfterSilence!.Value.TotalSeconds:0.###} s: reopening";
            }
            catch (Exception ex)
            {
                // The one poison path: whatever broke (socket, port, a codec bug), the link is dropped and reopened.
                reason = $"{ex.GetType().Name}: {ex.Message}";
            }
            finally
            {
                Volatile.Write(ref _connection, null);
                if (stream is not null)
                {
                    await stream.DisposeAsync();
                }
            }

            SetState(ScaleLinkState.Disconnected, reason);
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            // A link that delivered frames worked: start the back-off afresh, however it ended.
            delay = Interlocked.Read(ref _frames) > framesBefore ? _options.ReconnectDelay : delay;
            try
            {
                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>Reads frames until the stream ends.</summary>
    private async Task ReadFramesAsync(Stream stream, CancellationToken cancellationToken)
    {
        var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        _garbageRunOpen = false;
        try
        {
            while (true)
            {
                var result = await pipe.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                var consumed = buffer.Start;
                try
                {
                    DecodeAll(buffer, out consumed);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        // A frame cut off by the end of the link is lost: count its bytes as skipped.
                        Interlocked.Add(ref _skipped, buffer.Slice(consumed).Length);
                        return;
                    }
                }
                finally
                {
                    pipe.AdvanceTo(consumed, buffer.End);
                }
            }
        }
        finally
        {
            await pipe.CompleteAsync();
        }
    }

    /// <summary>Decodes every whole frame in <paramref name="buffer"/>; <paramref name="consumed"/> is where decoding stopped.</summary>
    private void DecodeAll(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (true)
            {
                var status = _codec.Decode(ref reader, out var frame, out var error);
                if (status == ScaleDecodeStatus.NeedMoreData)
                {
                    return;
                }

                if (status == ScaleDecodeStatus.Rejected)
                {
                    if (error.BytesToSkip < 1 || error.BytesToSkip > reader.Remaining)
                    {
                        throw new InvalidOperationException($"{_codec.Name} asked to skip {error.BytesToSkip} of {reader.Remaining} bytes.");
                    }

                    if (!error.IsGarbage)
                    {
                        Interlocked.Increment(ref _rejected);
                    }
                    else if (!_garbageRunOpen)
                    {
                        Interlocked.Increment(ref _garbage);
                    }

                    _garbageRunOpen = error.BytesToSkip == reader.Remaining;
                    Interlocked.Add(ref _skipped, error.BytesToSkip);
                    reader.Advance(error.BytesToSkip);
                    continue;
                }

                _garbageRunOpen = false;
                OnFrame(frame);
            }
        }
        finally
        {
            consumed = reader.Position;
        }
    }

    private void OnFrame(in ScaleFrame frame)
    {
        Interlocked.Increment(ref _frames);
        Interlocked.Exchange(ref _lastFrameTicks, _time.GetTimestamp());
        if (State == ScaleLinkState.Silent)
        {
            SetState(ScaleLinkState.Connected, "frames again");
        }

        if (frame.Kind == ScaleFrameKind.Weight && frame.GrossKg is { } gross)
        {
            Interlocked.Increment(ref _readings);
            Publish(new ScaleReading(_options.Name, _time.GetUtcNow(), gross, frame.Motion, frame.NetKg, frame.TareKg));
        }
        else
        {
            Interlocked.Increment(ref _withoutWeight);
        }
    }

    private void CheckSilence()
    {
        var silentFor = _time.GetElapsedTime(Interlocked.Read(ref _lastFrameTicks));
        lock (_stateLock)
        {
            if (_state == ScaleLinkState.Connected && silentFor >= _options.SilenceTimeout)
            {
                SetStateLocked(ScaleLinkState.Silent, $"no valid frame for {_options.SilenceTimeout.TotalSeconds:0.###} s");
            }

            if (_state != ScaleLinkState.Silent || _options.ReopenAfterSilence is not { } reopen || silentFor < reopen)
            {
                return;
            }
        }

        // A converter that lost power sends no FIN or RST: the socket looks open for hours. Reopening
        // is the only way to find out; for a serial port it is harmless.
        try
        {
            Volatile.Read(ref _connection)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the connection ended meanwhile
        }
    }

    private void SetState(ScaleLinkState state, string? reason)
    {
        lock (_stateLock)
        {
            SetStateLocked(state, reason);
        }
    }

    private void SetStateLocked(ScaleLinkState state, string? reason)
    {
        if (_state == state)
        {
            return;
        }

        _state = state;
        Publish(new ScaleLinkStateChanged(_options.Name, _time.GetUtcNow(), state, reason));
    }

    private void Publish(ScaleEvent e)
    {
        if (!_events.TryWrite(e))
        {
            Interlocked.Increment(ref _dropped);
        }
    }
}
