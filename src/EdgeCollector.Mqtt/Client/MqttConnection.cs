using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Client;

/// <summary>
/// One network connection to the broker: a read loop that frames and dispatches packets, one serialized
/// writer (a semaphore around the stream), a keep-alive loop, and a dispatcher that completes the task of a
/// request by its packet id. Every I/O failure goes through <see cref="Break"/>, which fails everything in
/// flight and closes the stream exactly once.
/// </summary>
internal sealed class MqttConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    // Writes go through a buffer so a burst of publishes leaves in a few segments / TLS records; every send
    // outside a burst flushes at once. Reads use _stream directly (PipeReader).
    private readonly BufferedStream _output;
    private readonly MqttClientOptions _options;
    private readonly MqttPacketWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly ConcurrentDictionary<ushort, TaskCompletionSource<MqttPacket>> _pending = new();
    private readonly TaskCompletionSource<MqttConnAckPacket> _connAck = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<MqttPublishPacket, Task> _onPublish;
    private readonly Channel<OutgoingPublish> _publishQueue = Channel.CreateUnbounded<OutgoingPublish>(new UnboundedChannelOptions { SingleReader = true });
    private Task _publishLoop = Task.CompletedTask;
    private SemaphoreSlim _inFlight;
    private int _nextPacketId;
    private int _broken;
    private long _lastSentTicks;
    private long _lastReceivedTicks;
    private long _pingSentTicks;
    private TimeSpan _keepAlive;
    private Task _readLoop = Task.CompletedTask;
    private Task _keepAliveLoop = Task.CompletedTask;

    public MqttConnection(Stream stream, MqttClientOptions options, Func<MqttPublishPacket, Task> onPublish)
    {
        _stream = stream;
        _output = new BufferedStream(stream, 16 * 1024);
        _options = options;
        _onPublish = onPublish;
        _writer = new MqttPacketWriter(options.ProtocolVersion);
        _inFlight = new SemaphoreSlim(Math.Max(1, options.MaxInFlight));
        _keepAlive = options.KeepAlive;
    }

    /// <summary>Completes with the reason once the connection is broken.</summary>
    public Task<Exception> Closed => _closed.Task;

    public bool IsBroken => Volatile.Read(ref _broken) != 0;

    public MqttConnAckPacket? ConnAck { get; private set; }

    private MqttProtocolVersion Version => _options.ProtocolVersion;

    /// <summary>Sends CONNECT and waits for CONNACK; starts the read and keep-alive loops.</summary>
    public async Task<MqttConnAckPacket> HandshakeAsync(CancellationToken cancellationToken)
    {
        _lastReceivedTicks = _lastSentTicks = Stopwatch.GetTimestamp();
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);

        var props = new MqttProperties();
        if (Version == MqttProtocolVersion.V500)
        {
            if (_options.SessionExpirySeconds != 0) props.SessionExpiryInterval = _options.SessionExpirySeconds;
            props.ReceiveMaximum = (ushort)Math.Clamp(_options.MaxInFlight, 1, ushort.MaxValue);
            props.MaximumPacketSize = (uint)_options.MaximumPacketSize;
        }
        var connect = new MqttConnectPacket
        {
            ProtocolVersion = Version,
            ClientId = _options.ClientId,
            CleanStart = _options.CleanStart,
            KeepAliveSeconds = (ushort)Math.Clamp(_options.KeepAlive.TotalSeconds, 0, ushort.MaxValue),
            UserName = _options.UserName,
            Password = _options.Password is null ? (ReadOnlyMemory<byte>?)null : System.Text.Encoding.UTF8.GetBytes(_options.Password),
            Will = _options.Will,
            Properties = props,
        };
        await SendAsync(connect, cancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttConnAckPacket ack;
        try
        {
            ack = await _connAck.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var ex = new TimeoutException($"No CONNACK within {_options.ConnectTimeout}.");
            Break(ex);
            throw ex;
        }
        if (ack.ReasonCode != MqttReasonCode.Success)
        {
            var ex = new MqttConnectRefusedException(ack.ReasonCode, ack.Properties.ReasonString);
            Break(ex);
            throw ex;
        }

        ConnAck = ack;
        if (ack.Properties.ReceiveMaximum is { } receiveMax && receiveMax < _options.MaxInFlight)
            _inFlight = new SemaphoreSlim(receiveMax);
        if (ack.Properties.MaximumPacketSize is { } maxSize)
            _writer.MaximumPacketSize = (int)Math.Min(maxSize, int.MaxValue);
        if (ack.Properties.ServerKeepAlive is { } serverKeepAlive)
            _keepAlive = TimeSpan.FromSeconds(serverKeepAlive);
        _publishLoop = Task.Run(PublishLoopAsync, CancellationToken.None);
        if (_keepAlive > TimeSpan.Zero)
            _keepAliveLoop = Task.Run(KeepAliveLoopAsync, CancellationToken.None);
        return ack;
    }

    /// <summary>
    /// Publishes. QoS 0 completes once written; QoS 1 once the PUBACK arrives (v5: a reason ≥ 0x80 throws
    /// <see cref="MqttPublishRejectedException"/>). Messages go onto the wire in call order: the call enqueues
    /// synchronously and one send loop takes an in-flight slot (at most MaxInFlight, or the broker's Receive
    /// Maximum) and a packet id for each, in order.
    /// </summary>
    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, bool dup, CancellationToken cancellationToken)
    {
        if (qos == MqttQualityOfService.ExactlyOnce)
            throw new NotSupportedException("Outgoing QoS 2 is not implemented; the uplink uses QoS 1.");
        if (ConnAck?.Properties is { } server)
        {
            if ((byte)qos > (server.MaximumQoS ?? 2))
                throw new NotSupportedException($"The broker accepts QoS {server.MaximumQoS} at most (CONNACK Maximum QoS) [MQTT-3.2.2-11]");
            if (retain && server.RetainAvailable == 0)
                throw new NotSupportedException("The broker does not support retained messages (CONNACK Retain Available = 0) [MQTT-3.2.2-14]");
        }
        ThrowIfBroken();
        var outgoing = new OutgoingPublish(new MqttPublishPacket { Topic = topic, Payload = payload, Retain = retain, Dup = dup, QoS = qos }, cancellationToken);
        if (!_publishQueue.Writer.TryWrite(outgoing)) throw new MqttConnectionLostException("Not connected.");
        return outgoing.Completion.Task.WaitAsync(cancellationToken);
    }

    private sealed class OutgoingPublish(MqttPublishPacket packet, CancellationToken cancellationToken)
    {
        public MqttPublishPacket Packet { get; } = packet;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The ordered publish path: one message at a time, in the order PublishAsync was called.</summary>
    private async Task PublishLoopAsync()
    {
        try
        {
            await foreach (var item in _publishQueue.Reader.ReadAllAsync(_cts.Token))
            {
                try
                {
                    await SendQueuedAsync(item);
                }
                catch (Exception ex)
                {
                    item.Completion.TrySetException(ex as MqttConnectionLostException ?? new MqttConnectionLostException($"Connection lost: {ex.Message}", ex));
                    throw;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or MqttConnectionLostException)
        {
        }
        catch (Exception ex)
        {
            Break(ex);
        }
        finally
        {
            FailQueuedPublishes();
        }
    }

    private async Task SendQueuedAsync(OutgoingPublish item)
    {
        if (item.CancellationToken.IsCancellationRequested)
        {
            item.Completion.TrySetCanceled(item.CancellationToken);
            return;
        }
        if (item.Packet.QoS == MqttQualityOfService.AtMostOnce)
        {
            try
            {
                await SendAsync(item.Packet, CancellationToken.None, flush: false);
                await FlushUnlessBurstAsync(window: null);
                item.Completion.TrySetResult();
            }
            catch (ArgumentException ex)
            {
                item.Completion.TrySetException(ex);
            }
            return;
        }
        var window = _inFlight;
        await window.WaitAsync(_cts.Token);
        ushort id;
        TaskCompletionSource<MqttPacket> ack;
        try
        {
            (id, ack) = RegisterRequest();
        }
        catch
        {
            window.Release();
            throw;
        }
        _ = ack.Task.ContinueWith(t =>
        {
            window.Release();
            _pending.TryRemove(id, out _);
            if (t.IsFaulted) item.Completion.TrySetException(t.Exception!.InnerExceptions);
            else if (t.IsCanceled) item.Completion.TrySetCanceled();
            else if (t.Result is MqttPubAckPacket { ReasonCode: >= (MqttReasonCode)0x80 } refused)
                item.Completion.TrySetException(new MqttPublishRejectedException(refused.ReasonCode, refused.Properties.ReasonString));
            else item.Completion.TrySetResult();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var packet = new MqttPublishPacket
        {
            Topic = item.Packet.Topic, Payload = item.Packet.Payload, Retain = item.Packet.Retain, Dup = item.Packet.Dup,
            QoS = item.Packet.QoS, PacketId = id, Properties = item.Packet.Properties,
        };
        try
        {
            await SendAsync(packet, CancellationToken.None, flush: false);
        }
        catch (ArgumentException ex)
        {
            // Not encodable (e.g. above the broker's maximum packet size): this message fails, the link stays.
            if (_pending.TryRemove(id, out var tcs)) tcs.TrySetException(ex);
        }
        await FlushUnlessBurstAsync(window);
    }

    /// <summary>
    /// Flushes unless another publish is queued and can go at once: a burst is written in one go, and nothing
    /// waits in the buffer while the loop idles or blocks on a full window.
    /// </summary>
    private Task FlushUnlessBurstAsync(SemaphoreSlim? window)
    {
        bool more = _publishQueue.Reader.TryPeek(out _) && (window is null || window.CurrentCount > 0);
        return more ? Task.CompletedTask : FlushAsync();
    }

    private void FailQueuedPublishes()
    {
        while (_publishQueue.Reader.TryRead(out var item))
            item.Completion.TrySetException(new MqttConnectionLostException("Connection lost before the message was sent."));
    }

    /// <summary>Subscribes and returns the SUBACK codes, one per filter.</summary>
    public async Task<IReadOnlyList<MqttReasonCode>> SubscribeAsync(IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        var (id, tcs) = RegisterRequest();
        try
        {
            await SendAsync(new MqttSubscribePacket { PacketId = id, Subscriptions = subscriptions }, cancellationToken);
            var ack = (MqttSubAckPacket)await tcs.Task.WaitAsync(cancellationToken);
            return ack.ReasonCodes;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Sends DISCONNECT (normal: the broker discards the will) and closes.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        if (IsBroken) return;
        try
        {
            await SendAsync(new MqttDisconnectPacket(), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or MqttConnectionLostException or OperationCanceledException)
        {
            // Already gone: nothing more to say to the broker.
        }
        Break(new MqttConnectionLostException("Disconnected by the client."));
    }

    /// <summary>
    /// The one failure path: marks the connection broken, fails every waiting request, cancels the loops and
    /// closes the stream. Idempotent.
    /// </summary>
    public void Break(Exception reason)
    {
        if (Interlocked.Exchange(ref _broken, 1) != 0) return;
        var lost = reason as MqttConnectionLostException ?? new MqttConnectionLostException($"Connection lost: {reason.Message}", reason);
        _connAck.TrySetException(reason);
        foreach (var (id, tcs) in _pending)
        {
            if (_pending.TryRemove(id, out _)) tcs.TrySetException(lost);
        }
        _publishQueue.Writer.TryComplete();
        FailQueuedPublishes();
        _cts.Cancel();
        try { _stream.Dispose(); } catch (IOException) { } catch (ObjectDisposedException) { }
        _closed.TrySetResult(reason);
    }

    private void ThrowIfBroken()
    {
        if (IsBroken) throw new MqttConnectionLostException("Not connected.", _closed.Task.IsCompleted ? _closed.Task.Result : null);
    }

    private (ushort Id, TaskCompletionSource<MqttPacket> Tcs) RegisterRequest()
    {
        var tcs = new TaskCompletionSource<MqttPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int attempt = 0; attempt < 65_536; attempt++)
        {
            ushort id = (ushort)(Interlocked.Increment(ref _nextPacketId) & 0xFFFF);
            if (id == 0) continue; // packet ids are non-zero [MQTT-2.3.1-1]
            if (_pending.TryAdd(id, tcs))
            {
                // A Break that ran between the check and the add must still fail this request.
                if (IsBroken && _pending.TryRemove(id, out _))
                    throw new MqttConnectionLostException("Not connected.");
                return (id, tcs);
            }
        }
        throw new InvalidOperationException("All 65,535 packet identifiers are in use.");
    }

    /// <summary>The single writer: encode and write one whole packet under the lock.</summary>
    private async Task SendAsync(MqttPacket packet, CancellationToken cancellationToken, bool flush = true)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfBroken();
            // Encoding errors (too large, bad topic) are the caller's and leave the connection intact.
            var encoded = _writer.Encode(packet);
            try
            {
                // Never cancel a write half-way on the caller's token: a partial packet poisons the stream.
                await _output.WriteAsync(encoded.Header, _cts.Token);
                if (!encoded.Payload.IsEmpty) await _output.WriteAsync(encoded.Payload, _cts.Token);
                if (flush) await _output.FlushAsync(_cts.Token);
                Volatile.Write(ref _lastSentTicks, Stopwatch.GetTimestamp());
            }
            catch (Exception ex)
            {
                Break(ex);
                throw new MqttConnectionLostException($"Write failed: {ex.Message}", ex);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Pushes out whatever a burst left in the write buffer.</summary>
    private async Task FlushAsync()
    {
        await _writeLock.WaitAsync(_cts.Token);
        try
        {
            ThrowIfBroken();
            await _output.FlushAsync(_cts.Token);
        }
        catch (Exception ex) when (ex is not MqttConnectionLostException and not OperationCanceledException)
        {
            Break(ex);
            throw new MqttConnectionLostException($"Write failed: {ex.Message}", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        var packets = new List<MqttPacket>();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_cts.Token);
                var buffer = result.Buffer;
                var consumed = buffer.Start;
                try
                {
                    consumed = Frame(buffer, packets);
                }
                finally
                {
                    reader.AdvanceTo(consumed, buffer.End);
                }
                if (packets.Count > 0)
                {
                    Volatile.Write(ref _lastReceivedTicks, Stopwatch.GetTimestamp());
                    Volatile.Write(ref _pingSentTicks, 0);
                }
                foreach (var packet in packets) await DispatchAsync(packet);
                packets.Clear();
                if (result.IsCompleted)
                {
                    Break(new MqttConnectionLostException("The broker closed the connection."));
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private SequencePosition Frame(ReadOnlySequence<byte> buffer, List<MqttPacket> packets)
    {
        var sequenceReader = new SequenceReader<byte>(buffer);
        while (MqttPacketReader.TryRead(ref sequenceReader, Version, _options.MaximumPacketSize, out var packet))
            packets.Add(packet);
        return sequenceReader.Position;
    }

    private async Task DispatchAsync(MqttPacket packet)
    {
        switch (packet)
        {
            case MqttConnAckPacket connAck:
                if (!_connAck.TrySetResult(connAck))
                    throw new MqttProtocolException("Second CONNACK on one connection [MQTT-3.2.0-2]");
                break;
            case MqttPubAckPacket or MqttSubAckPacket or MqttUnsubAckPacket:
                ushort id = packet switch
                {
                    MqttPubAckPacket a => a.PacketId,
                    MqttSubAckPacket s => s.PacketId,
                    _ => ((MqttUnsubAckPacket)packet).PacketId,
                };
                if (_pending.TryRemove(id, out var tcs)) tcs.TrySetResult(packet);
                else _options.Log?.Invoke(MqttLogLevel.Debug, $"{packet.Type} for unknown packet id {id} ignored", null);
                break;
            case MqttPingRespPacket:
                break;
            case MqttPublishPacket publish:
                await _onPublish(publish);
                if (publish.QoS == MqttQualityOfService.AtLeastOnce)
                    await SendAsync(new MqttPubAckPacket { PacketId = publish.PacketId }, CancellationToken.None);
                else if (publish.QoS == MqttQualityOfService.ExactlyOnce)
                    await SendAsync(new MqttPubRecPacket { PacketId = publish.PacketId }, CancellationToken.None);
                break;
            case MqttPubRelPacket rel:
                await SendAsync(new MqttPubCompPacket { PacketId = rel.PacketId }, CancellationToken.None);
                break;
            case MqttDisconnectPacket disconnect:
                throw new MqttConnectionLostException(
                    $"Broker sent DISCONNECT 0x{(byte)disconnect.ReasonCode:X2} {disconnect.ReasonCode} {disconnect.Properties.ReasonString}");
            default:
                throw new MqttProtocolException($"Unexpected {packet.Type} from the broker (§{(int)packet.Type}.x, protocol error)");
        }
    }

    /// <summary>
    /// Sends PINGREQ when nothing was written for a keep-alive period [MQTT-3.1.2-23] and breaks the
    /// connection when nothing at all arrives within the timeout after it (§3.1.2.10).
    /// </summary>
    private async Task KeepAliveLoopAsync()
    {
        var timeout = _options.KeepAliveTimeout ?? _keepAlive;
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_keepAlive.TotalMilliseconds / 4, 100, 1000));
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                await Task.Delay(tick, _cts.Token);
                long now = Stopwatch.GetTimestamp();
                long pingSent = Volatile.Read(ref _pingSentTicks);
                if (pingSent != 0 && Stopwatch.GetElapsedTime(pingSent, now) > timeout)
                {
                    Break(new TimeoutException($"No response to PINGREQ within {timeout}: connection is dead."));
                    return;
                }
                // Ping when we have been quiet, and also when the broker has: a stream of writes into a dead
                // socket's send buffer must not hide that nothing comes back.
                if (pingSent == 0 &&
                    (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastSentTicks), now) >= _keepAlive * 0.75 ||
                     Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceivedTicks), now) >= _keepAlive))
                {
                    Volatile.Write(ref _pingSentTicks, now);
                    await SendAsync(MqttPingReqPacket.Instance, _cts.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (MqttConnectionLostException)
        {
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Break(new MqttConnectionLostException("Connection disposed."));
        try { await Task.WhenAll(_readLoop, _keepAliveLoop, _publishLoop).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException) { }
        _cts.Dispose();
    }
}
