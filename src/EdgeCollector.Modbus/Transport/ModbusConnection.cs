namespace EdgeCollector.Modbus;

/// <summary>
/// One Modbus link (a TCP socket or a serial line) shared by every unit id behind it.
/// </summary>
/// <remarks>
/// <code>
///   SendAsync ──► EnsureConnected ──► ExchangeAsync (subclass: frame, write, match reply)
///       ▲   retries with back-off          │ timeout / I/O error / bad frame
///       └──────────────────────────────────┘
///   every I/O failure ──► Break(ex): state Broken, transport closed, pending requests failed,
///   reconnect allowed after an exponential back-off (fail fast until then).
/// </code>
/// </remarks>
public abstract class ModbusConnection : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly object _stateLock = new();
    private DateTimeOffset _reconnectAt = DateTimeOffset.MinValue;
    private TimeSpan _reconnectDelay;
    private Exception? _lastFailure;
    private int _consecutiveTimeouts;

    /// <summary>Creates the link; nothing is opened until the first request.</summary>
    protected ModbusConnection(string name, ModbusConnectionOptions options, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Name = name;
        Options = options;
        Time = timeProvider ?? TimeProvider.System;
        _reconnectDelay = options.ReconnectDelay;
    }

    /// <summary>Name used in messages, e.g. <c>tcp://10.0.0.5:502</c>.</summary>
    public string Name { get; }

    /// <summary>Timing and retry policy.</summary>
    public ModbusConnectionOptions Options { get; }

    /// <summary>Current state.</summary>
    public ModbusConnectionState State { get; private set; } = ModbusConnectionState.Disconnected;

    /// <summary>Diagnostic counters.</summary>
    public ModbusCounters Counters { get; } = new();

    /// <summary>The clock used for timeouts and back-off.</summary>
    protected TimeProvider Time { get; }

    /// <summary>
    /// Sends <paramref name="request"/> to <paramref name="unitId"/> and returns the reply.
    /// Retries timeouts and I/O failures up to <see cref="ModbusConnectionOptions.Retries"/> times.
    /// </summary>
    /// <exception cref="ModbusDeviceException">The device answered with an exception response.</exception>
    /// <exception cref="TimeoutException">No valid reply within the timeout on every attempt.</exception>
    /// <exception cref="IOException">The link failed (including <see cref="ModbusLinkDownException"/>).</exception>
    /// <exception cref="ModbusProtocolException">The device kept answering with malformed or mismatching frames.</exception>
    public async Task<ModbusResponse> SendAsync(byte unitId, ModbusRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Encode once up front so that a request the spec forbids fails before any I/O, and never retries.
        _ = ModbusPduCodec.WriteRequest(request, stackalloc byte[ModbusPduCodec.MaxPduLength]);
        Exception? last = null;
        for (int attempt = 0; attempt <= Options.Retries; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(Options.RetryDelay * (1 << (attempt - 1)), Time, cancellationToken).ConfigureAwait(false);
            }

            ObjectDisposedException.ThrowIf(State == ModbusConnectionState.Disposed, this);
            // A failed connect is not retried here: it arms the reconnect back-off and the caller
            // (the poller) reports the gap; retrying inside the back-off could not succeed.
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                Counters.Request();
                var response = await ExchangeAsync(unitId, request, cancellationToken).ConfigureAwait(false);
                Counters.Response();
                Succeeded();
                if (response.ExceptionCode is { } code)
                {
                    Counters.DeviceException();
                    throw new ModbusDeviceException(unitId, request.Function, code);
                }

                return response;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Only the per-request timeout (see StartTimeout) cancels without the caller's token.
                Counters.Timeout();
                last = new TimeoutException($"{Name}: unit {unitId} did not answer {request} within {Options.Timeout.TotalMilliseconds:0} ms.");
                if (Interlocked.Increment(ref _consecutiveTimeouts) >= Options.BreakAfterTimeouts && BreakOnRepeatedTimeouts)
                {
                    Break(last);
                }
            }
            catch (ModbusProtocolException ex)
            {
                Counters.BadFrame();
                last = ex;
            }
            catch (IOException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

    /// <summary>
    /// Requests this link carries at once: what a poller may keep in flight for one unit. 1 (strictly sequential)
    /// unless the transport pipelines (Modbus TCP with <see cref="ModbusConnectionOptions.MaxInFlight"/> &gt; 1).
    /// </summary>
    public virtual int MaxConcurrentRequests => 1;

    /// <summary>
    /// Holds back writes until the returned object is disposed, so that several requests started together leave in
    /// one write (Modbus TCP); null when the link does not batch or is not connected. Requests started meanwhile
    /// still wait for their replies normally; their timeouts run from the start.
    /// </summary>
    public virtual IDisposable? HoldWrites() => null;

    /// <summary>Whether repeated timeouts mean the transport itself is dead (true for TCP; a serial line stays open).</summary>
    protected virtual bool BreakOnRepeatedTimeouts => true;

    /// <summary>Opens the transport. Called under the connect lock; must honour the token.</summary>
    protected abstract Task ConnectCoreAsync(CancellationToken cancellationToken);

    /// <summary>
    /// One attempt: frame, write, wait for the matching reply. I/O failures must go through <see cref="Break"/>.
    /// The implementation starts the per-request timeout with <see cref="StartTimeout"/> once the request
    /// owns the link (after any queueing), so waiting behind a slow unit does not eat a request's time.
    /// </summary>
    protected abstract Task<ModbusResponse> ExchangeAsync(byte unitId, ModbusRequest request, CancellationToken cancellationToken);

    /// <summary>Starts the per-request timeout (on <see cref="Time"/>), linked with <paramref name="cancellationToken"/>.</summary>
    protected RequestTimeout StartTimeout(CancellationToken cancellationToken) => new(Options.Timeout, Time, cancellationToken);

    /// <summary>A running per-request timeout; dispose when the exchange ends.</summary>
    protected sealed class RequestTimeout : IDisposable
    {
        private readonly CancellationTokenSource _timer;
        private readonly CancellationTokenSource _linked;

        internal RequestTimeout(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
        {
            _timer = new CancellationTokenSource(timeout, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(_timer.Token, cancellationToken);
        }

        /// <summary>Cancelled by the timeout or the caller.</summary>
        public CancellationToken Token => _linked.Token;

        /// <inheritdoc />
        public void Dispose()
        {
            _linked.Dispose();
            _timer.Dispose();
        }
    }

    /// <summary>Closes the transport and fails anything pending on it. Must not throw.</summary>
    protected abstract void CloseCore(Exception reason);

    /// <summary>
    /// The single failure path: marks the link broken, closes the transport and arms the reconnect back-off.
    /// Returns the exception to throw.
    /// </summary>
    protected IOException Break(Exception reason)
    {
        lock (_stateLock)
        {
            if (State is ModbusConnectionState.Connected or ModbusConnectionState.Connecting)
            {
                State = ModbusConnectionState.Broken;
                Counters.Break();
                _lastFailure = reason;
                _reconnectAt = Time.GetUtcNow() + _reconnectDelay;
                _reconnectDelay = TimeSpan.FromTicks(Math.Min(_reconnectDelay.Ticks * 2, Options.MaxReconnectDelay.Ticks));
                CloseCore(reason);
            }
        }

        return reason as IOException ?? new IOException($"{Name}: link broken: {reason.Message}", reason);
    }

    private void Succeeded()
    {
        Volatile.Write(ref _consecutiveTimeouts, 0);
        lock (_stateLock)
        {
            _reconnectDelay = Options.ReconnectDelay;
        }
    }

    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (State == ModbusConnectionState.Connected)
        {
            return;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State == ModbusConnectionState.Connected)
            {
                return;
            }

            ObjectDisposedException.ThrowIf(State == ModbusConnectionState.Disposed, this);
            var now = Time.GetUtcNow();
            if (State == ModbusConnectionState.Broken && now < _reconnectAt)
            {
                throw new ModbusLinkDownException(
                    $"{Name}: link down, next reconnect in {(_reconnectAt - now).TotalMilliseconds:0} ms (last error: {_lastFailure?.Message}).", _lastFailure);
            }

            lock (_stateLock)
            {
                State = ModbusConnectionState.Connecting;
            }

            using var timeout = new CancellationTokenSource(Options.ConnectTimeout, Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await ConnectCoreAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failure = ex is OperationCanceledException
                    ? new TimeoutException($"{Name}: connect timed out after {Options.ConnectTimeout.TotalMilliseconds:0} ms.")
                    : ex;
                throw Break(new IOException($"{Name}: connect failed: {failure.Message}", failure));
            }

            lock (_stateLock)
            {
                // A failure on the fresh transport (or a dispose) may have won the race with us.
                if (State != ModbusConnectionState.Connecting)
                {
                    ObjectDisposedException.ThrowIf(State == ModbusConnectionState.Disposed, this);
                    throw new IOException($"{Name}: connection lost while connecting: {_lastFailure?.Message}", _lastFailure);
                }

                State = ModbusConnectionState.Connected;
            }

            Counters.Connect();
        }
        catch (OperationCanceledException)
        {
            lock (_stateLock)
            {
                if (State == ModbusConnectionState.Connecting)
                {
                    State = ModbusConnectionState.Disconnected;
                    CloseCore(new OperationCanceledException());
                }
            }

            throw;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        lock (_stateLock)
        {
            if (State == ModbusConnectionState.Disposed)
            {
                return;
            }

            State = ModbusConnectionState.Disposed;
            CloseCore(new ObjectDisposedException(Name));
        }

        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Extra asynchronous cleanup after <see cref="CloseCore"/>.</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;
}
