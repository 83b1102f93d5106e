namespace EdgeCollector.Modbus;

/// <summary>Timing and retry policy of one Modbus link.</summary>
public sealed record ModbusConnectionOptions
{
    /// <summary>Time allowed for one request/response exchange.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Extra attempts after a timeout or I/O failure (not after a device exception).</summary>
    public int Retries { get; init; } = 1;

    /// <summary>Delay before the first retry; doubles per retry.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Time allowed to open the socket or serial port.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Wait after a broken link before the first reconnect; doubles per failed reconnect.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Ceiling of the reconnect back-off.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Requests outstanding at once on a Modbus TCP link. 1 suits most meters and gateways; a PLC that
    /// queues requests may take more (the MBAP transaction id exists to pair replies with requests).
    /// </summary>
    public int MaxInFlight { get; init; } = 1;

    /// <summary>Consecutive timeouts after which a TCP link is assumed half-open and reconnected.</summary>
    public int BreakAfterTimeouts { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "Timeout must be positive.");
        }

        if (Retries is < 0 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(Retries), Retries, "Retries must be 0..10.");
        }

        if (MaxInFlight is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInFlight), MaxInFlight, "MaxInFlight must be 1..256.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ReconnectDelay < TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay || RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("Connect timeout must be positive and delays non-negative, MaxReconnectDelay ≥ ReconnectDelay.");
        }
    }
}

/// <summary>Life cycle of a link.</summary>
public enum ModbusConnectionState
{
    /// <summary>Never connected.</summary>
    Disconnected,
    /// <summary>Opening the socket or port.</summary>
    Connecting,
    /// <summary>Open and usable.</summary>
    Connected,
    /// <summary>Failed; requests fail fast until the reconnect back-off expires.</summary>
    Broken,
    /// <summary>Disposed.</summary>
    Disposed,
}

/// <summary>Counters of one link, for diagnostics. Thread-safe.</summary>
public sealed class ModbusCounters
{
    private long _requests;
    private long _responses;
    private long _timeouts;
    private long _deviceExceptions;
    private long _badFrames;
    private long _garbageBytes;
    private long _unmatched;
    private long _connects;
    private long _breaks;

    /// <summary>Attempts sent.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Matching responses received (including exception responses).</summary>
    public long Responses => Interlocked.Read(ref _responses);

    /// <summary>Attempts that timed out.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Exception responses (§7).</summary>
    public long DeviceExceptions => Interlocked.Read(ref _deviceExceptions);

    /// <summary>Frames rejected as malformed (CRC, framing, mismatching reply).</summary>
    public long BadFrames => Interlocked.Read(ref _badFrames);

    /// <summary>Bytes discarded while hunting for a frame on an RTU line.</summary>
    public long GarbageBytes => Interlocked.Read(ref _garbageBytes);

    /// <summary>TCP responses whose transaction id matched no pending request (late replies after a timeout).</summary>
    public long UnmatchedResponses => Interlocked.Read(ref _unmatched);

    /// <summary>Successful connects.</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Times the link was broken.</summary>
    public long Breaks => Interlocked.Read(ref _breaks);

    internal void Request() => Interlocked.Increment(ref _requests);

    internal void Response() => Interlocked.Increment(ref _responses);

    internal void Timeout() => Interlocked.Increment(ref _timeouts);

    internal void DeviceException() => Interlocked.Increment(ref _deviceExceptions);

    internal void BadFrame() => Interlocked.Increment(ref _badFrames);

    internal void Garbage(long bytes) => Interlocked.Add(ref _garbageBytes, bytes);

    internal void Unmatched() => Interlocked.Increment(ref _unmatched);

    internal void Connect() => Interlocked.Increment(ref _connects);

    internal void Break() => Interlocked.Increment(ref _breaks);

    /// <inheritdoc />
    public override string ToString() =>
        $"requests={Requests} responses={Responses} timeouts={Timeouts} exceptions={DeviceExceptions} badFrames={BadFrames} garbageBytes={GarbageBytes} unmatched={UnmatchedResponses} connects={Connects} breaks={Breaks}";
}

/// <summary>The link is down and waiting for its reconnect back-off; the request was not sent.</summary>
public sealed class ModbusLinkDownException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ModbusLinkDownException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
