using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Client;

/// <summary>State of an <see cref="MqttClient"/>.</summary>
public enum MqttConnectionState
{
    Disconnected,
    Connecting,
    Connected,
    /// <summary>The connection was lost; the client waits (back-off with jitter) before the next attempt.</summary>
    WaitingToReconnect,
    Disposed,
}

/// <summary>Counters of one connection: socket reads (that returned data), socket writes, and read-loop pauses that let PUBACKs gather.</summary>
public readonly record struct MqttTransportCounters(long Reads, long Writes, long CoalescePauses);

/// <summary>An application message received on a subscription.</summary>
public sealed record MqttApplicationMessage(string Topic, ReadOnlyMemory<byte> Payload, MqttQualityOfService QoS, bool Retain);

/// <summary>
/// MQTT 3.1.1 / 5.0 client over TCP or TLS. <see cref="StartAsync"/> keeps a connection up (reconnecting with
/// exponential back-off and jitter); <see cref="ConnectAsync"/> makes one attempt. Publishing is QoS 0 or 1;
/// a QoS 1 publish completes on its PUBACK. Async only; thread-safe.
/// </summary>
public sealed class MqttClient : IAsyncDisposable
{
    private readonly MqttClientOptions _options;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _lifetime = new();
    private MqttConnection? _connection;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _supervisor = Task.CompletedTask;
    private MqttConnectionState _state;
    private long _epoch;

    public MqttClient(MqttClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Raised on every state change (never under a lock; handler exceptions are logged and swallowed).</summary>
    public event Action<MqttConnectionState>? StateChanged;

    /// <summary>Raised for each message received on a subscription, before it is acknowledged.</summary>
    public event Func<MqttApplicationMessage, Task>? MessageReceived;

    public MqttConnectionState State => _state;

    /// <summary>Increases with every successful connection; lets a caller notice it is on a new session.</summary>
    public long ConnectionEpoch => Interlocked.Read(ref _epoch);

    /// <summary>The CONNACK of the current connection (session present, v5 properties).</summary>
    public MqttConnAckPacket? ConnAck => _connection?.ConnAck;

    /// <summary>
    /// The in-flight window of the current connection: at most this many QoS 1 publishes await their PUBACK at once
    /// (<see cref="MqttClientOptions.MaxInFlight"/>, or the broker's v5 Receive Maximum when smaller); 0 when not connected.
    /// </summary>
    public int InFlightLimit => _connection?.InFlightLimit ?? 0;

    /// <summary>Transport counters of the current connection (zero when not connected).</summary>
    public MqttTransportCounters Counters => _connection?.Counters ?? default;

    /// <summary>Connects once; throws on failure. Does not reconnect by itself (see <see cref="StartAsync"/>).</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        SetState(MqttConnectionState.Connecting);
        MqttConnection? connection = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            timeout.CancelAfter(_options.ConnectTimeout);
            var stream = await MqttTransport.ConnectAsync(_options, timeout.Token);
            connection = new MqttConnection(stream, _options, OnPublishAsync);
            var ack = await connection.HandshakeAsync(timeout.Token);
            MqttConnection? previous;
            lock (_gate)
            {
                previous = _connection;
                _connection = connection;
                _epoch++;
                _connected.TrySetResult();
            }
            if (previous is not null) await previous.DisposeAsync();
            SetState(MqttConnectionState.Connected);
            _options.Log?.Invoke(MqttLogLevel.Information,
                $"MQTT connected to {_options.Host}:{_options.Port} as '{_options.ClientId}' (v{(_options.ProtocolVersion == MqttProtocolVersion.V500 ? "5.0" : "3.1.1")}, session present {ack.SessionPresent})", null);
            _ = connection.Closed.ContinueWith(t => OnConnectionClosed(connection, t.Result), TaskScheduler.Default);
        }
        catch
        {
            if (connection is not null) await connection.DisposeAsync();
            SetState(MqttConnectionState.Disconnected);
            throw;
        }
    }

    /// <summary>
    /// Starts the supervisor that connects and, whenever the connection breaks, reconnects after
    /// min(max, min × 2^attempt) × a random factor in [0.5, 1) — forever, until disposed.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_state == MqttConnectionState.Disposed, this);
        _supervisor = Task.Run(() => SuperviseAsync(_lifetime.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        int attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await ConnectAsync(stop);
                attempt = 0;
                var connection = _connection!;
                var reason = await connection.Closed.WaitAsync(stop);
                _options.Log?.Invoke(MqttLogLevel.Warning, $"MQTT connection lost: {reason.Message}", reason);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _options.Log?.Invoke(MqttLogLevel.Warning, $"MQTT connect to {_options.Host}:{_options.Port} failed: {ex.Message}", ex);
            }

            var delay = BackoffDelay(attempt++);
            SetState(MqttConnectionState.WaitingToReconnect);
            try { await Task.Delay(delay, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Exponential back-off with jitter: min(max, min × 2^attempt) × U[0.5, 1).</summary>
    public TimeSpan BackoffDelay(int attempt)
    {
        double baseMs = _options.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        double capped = Math.Min(_options.ReconnectMaxDelay.TotalMilliseconds, baseMs);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>Waits until a connection is up (or the token fires).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return _connected.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Publishes one message. QoS 0 completes when written; QoS 1 when the broker's PUBACK arrives (v5: a reason
    /// code ≥ 0x80 throws <see cref="MqttPublishRejectedException"/>). Throws
    /// <see cref="MqttConnectionLostException"/> when not connected or when the connection breaks before the ack.
    /// </summary>
    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default) =>
        Current().PublishAsync(topic, payload, qos, retain, dup: false, cancellationToken);

    /// <summary>As the overload without <paramref name="dup"/>, with the DUP flag for a re-delivery (§3.3.1.1).</summary>
    public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, bool dup, CancellationToken cancellationToken) =>
        Current().PublishAsync(topic, payload, qos, retain, dup, cancellationToken);

    /// <summary>Subscribes; returns the granted QoS / reason code per filter.</summary>
    public Task<IReadOnlyList<MqttReasonCode>> SubscribeAsync(IReadOnlyList<MqttSubscription> subscriptions, CancellationToken cancellationToken = default) =>
        Current().SubscribeAsync(subscriptions, cancellationToken);

    /// <summary>Sends DISCONNECT (the broker then discards the will) and stops reconnecting.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        await _lifetime.CancelAsync();
        if (_connection is { } c) await c.DisconnectAsync(cancellationToken);
        try { await _supervisor; } catch (OperationCanceledException) { }
        SetState(MqttConnectionState.Disconnected);
    }

    /// <summary>Test and failure-injection hook: breaks the current connection as an I/O error would (the will is published).</summary>
    public void Abort(Exception reason) => _connection?.Break(reason);

    private MqttConnection Current()
    {
        var c = _connection;
        if (c is null || c.IsBroken) throw new MqttConnectionLostException("Not connected.");
        return c;
    }

    private void OnConnectionClosed(MqttConnection connection, Exception reason)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_connection, connection)) return;
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        if (_state == MqttConnectionState.Connected) SetState(MqttConnectionState.Disconnected);
    }

    private async Task OnPublishAsync(MqttPublishPacket packet)
    {
        var handler = MessageReceived;
        if (handler is null) return;
        try
        {
            await handler(new MqttApplicationMessage(packet.Topic, packet.Payload, packet.QoS, packet.Retain));
        }
        catch (Exception ex)
        {
            _options.Log?.Invoke(MqttLogLevel.Error, $"MessageReceived handler failed for '{packet.Topic}'", ex);
        }
    }

    private void SetState(MqttConnectionState state)
    {
        if (_state == MqttConnectionState.Disposed || _state == state) return;
        _state = state;
        try
        {
            StateChanged?.Invoke(state);
        }
        catch (Exception ex)
        {
            _options.Log?.Invoke(MqttLogLevel.Error, "StateChanged handler failed", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_state == MqttConnectionState.Disposed) return;
        await _lifetime.CancelAsync();
        try { await _supervisor; } catch (OperationCanceledException) { }
        if (_connection is { } c) await c.DisposeAsync();
        SetState(MqttConnectionState.Disposed);
        _state = MqttConnectionState.Disposed;
        _lifetime.Dispose();
    }
}
