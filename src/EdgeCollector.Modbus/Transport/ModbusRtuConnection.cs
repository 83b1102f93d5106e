using System.Buffers;
using System.Net.Sockets;
using EdgeCollector.Serial;

namespace EdgeCollector.Modbus;

/// <summary>
/// Modbus RTU link over any byte stream: a serial port, or a TCP socket to a serial gateway
/// ("RTU over TCP"). RTU has no transaction id, so exactly one transaction runs at a time
/// (Modbus over Serial Line v1.02 §2.4: the master waits for the reply or the time-out).
/// </summary>
/// <remarks>
/// The reply is found by scanning the received bytes for a CRC-valid frame from the addressed
/// unit with the requested function; bytes skipped on the way are counted as garbage. After a
/// time-out the line is drained before the next request so that a late reply cannot be taken
/// for the answer to the next one.
/// </remarks>
public sealed class ModbusRtuConnection : ModbusConnection
{
    private const int ReceiveBufferSize = 1024;

    private readonly Func<CancellationToken, ValueTask<Stream>> _open;
    private readonly TimeSpan _silence;
    private readonly SemaphoreSlim _transaction = new(1, 1);
    private readonly byte[] _rx = new byte[ReceiveBufferSize];
    private int _rxCount;
    private Stream? _stream;
    private long _lastActivity;
    private bool _drainBeforeNext;

    /// <summary>Creates the link over streams produced by <paramref name="open"/>.</summary>
    /// <param name="name">Name for messages.</param>
    /// <param name="open">Opens the byte stream (called on first use and on every reconnect).</param>
    /// <param name="interFrameSilence">Minimum idle time between frames (t3.5); zero for TCP gateways.</param>
    /// <param name="options">Timing and retry policy.</param>
    /// <param name="timeProvider">Clock.</param>
    public ModbusRtuConnection(string name, Func<CancellationToken, ValueTask<Stream>> open, TimeSpan interFrameSilence, ModbusConnectionOptions? options = null, TimeProvider? timeProvider = null)
        : base(name, options ?? new ModbusConnectionOptions(), timeProvider)
    {
        _open = open;
        _silence = interFrameSilence;
    }

    /// <summary>Bytes discarded because they were not part of a valid reply.</summary>
    public long GarbageBytes => Counters.GarbageBytes;

    /// <summary>The inter-frame silence in use.</summary>
    public TimeSpan InterFrameSilence => _silence;

    /// <summary>RTU on a local serial port.</summary>
    public static ModbusRtuConnection Serial(SerialPortSettings settings, ModbusConnectionOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return new ModbusRtuConnection(
            $"rtu://{settings.PortName}@{settings.BaudRate}",
            _ => ValueTask.FromResult<Stream>(LinuxSerialPort.Open(settings)),
            InterFrameSilenceFor(settings.BaudRate, settings.BitsPerCharacter),
            options,
            timeProvider);
    }

    /// <summary>RTU frames over a TCP socket to a serial-to-Ethernet gateway.</summary>
    public static ModbusRtuConnection OverTcp(string host, int port, ModbusConnectionOptions? options = null, TimeProvider? timeProvider = null) =>
        new(
            $"rtu+tcp://{host}:{port}",
            async ct =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(host, port, ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            TimeSpan.Zero,
            options,
            timeProvider);

    /// <summary>
    /// t3.5 of Modbus over Serial Line v1.02 §2.5.1.1: 3.5 character times, fixed at 1.75 ms above
    /// 19200 baud (the spec's recommendation for high rates).
    /// </summary>
    public static TimeSpan InterFrameSilenceFor(int baudRate, int bitsPerCharacter = 11) =>
        baudRate > 19200
            ? TimeSpan.FromMicroseconds(1750)
            : TimeSpan.FromSeconds(3.5 * bitsPerCharacter / baudRate);

    /// <inheritdoc />
    protected override bool BreakOnRepeatedTimeouts => false;

    /// <inheritdoc />
    protected override async Task ConnectCoreAsync(CancellationToken cancellationToken)
    {
        _stream = await _open(cancellationToken).ConfigureAwait(false);
        _rxCount = 0;
        _lastActivity = Time.GetTimestamp();
    }

    /// <inheritdoc />
    protected override void CloseCore(Exception reason)
    {
        var stream = Interlocked.Exchange(ref _stream, null);
        stream?.Dispose();
    }

    /// <inheritdoc />
    protected override async Task<ModbusResponse> ExchangeAsync(byte unitId, ModbusRequest request, CancellationToken cancellationToken)
    {
        await _transaction.WaitAsync(cancellationToken).ConfigureAwait(false);
        var timeout = StartTimeout(cancellationToken);
        cancellationToken = timeout.Token;
        try
        {
            var stream = _stream ?? throw Break(new IOException($"{Name}: transport closed."));
            try
            {
                if (_drainBeforeNext)
                {
                    await DrainAsync(stream, cancellationToken).ConfigureAwait(false);
                    _drainBeforeNext = false;
                }

                if (_rxCount > 0)
                {
                    // Anything received while no request was outstanding answers nothing.
                    Counters.Garbage(_rxCount);
                    _rxCount = 0;
                }

                await WaitForSilenceAsync(cancellationToken).ConfigureAwait(false);
                byte[] frame = ArrayPool<byte>.Shared.Rent(ModbusRtuCodec.MaxAduLength);
                try
                {
                    int length = ModbusRtuCodec.WriteRequest(unitId, request, frame);
                    await stream.WriteAsync(frame.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame);
                }

                _lastActivity = Time.GetTimestamp();
                if (unitId == 0)
                {
                    // Broadcast (§2.1): no reply; the turnaround delay lets slaves act before the next frame.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Time, cancellationToken).ConfigureAwait(false);
                    return ModbusResponse.WriteEcho(request.Function, request.Address, request.Quantity);
                }

                return await ReceiveAsync(stream, unitId, request.Function, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _drainBeforeNext = true;
                throw;
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                throw Break(ex);
            }
        }
        finally
        {
            _transaction.Release();
            timeout.Dispose();
        }
    }

    private async Task<ModbusResponse> ReceiveAsync(Stream stream, byte unitId, ModbusFunctionCode function, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryFindReply(unitId, function, out var response))
            {
                return response;
            }

            if (_rxCount == _rx.Length)
            {
                // A full buffer without a reply is noise; keep the tail in case a frame starts there.
                int keep = ModbusRtuCodec.MaxAduLength;
                Counters.Garbage(_rxCount - keep);
                Buffer.BlockCopy(_rx, _rxCount - keep, _rx, 0, keep);
                _rxCount = keep;
            }

            int n = await stream.ReadAsync(_rx.AsMemory(_rxCount), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException($"{Name}: line closed.");
            }

            _rxCount += n;
            _lastActivity = Time.GetTimestamp();
        }
    }

    /// <summary>Scans the receive buffer for the reply; skipped bytes are garbage.</summary>
    private bool TryFindReply(byte unitId, ModbusFunctionCode function, out ModbusResponse response)
    {
        response = null!;
        var data = new ReadOnlySequence<byte>(_rx, 0, _rxCount);
        for (int offset = 0; offset < _rxCount; offset++)
        {
            var reader = new SequenceReader<byte>(data.Slice(offset));
            try
            {
                if (!ModbusRtuCodec.TryReadResponse(ref reader, out var frame))
                {
                    // Incomplete here; a complete reply may still start later (this one may be noise).
                    continue;
                }

                if (frame.UnitId != unitId || frame.Message.Function != function)
                {
                    // A CRC-valid frame that is not our reply (e.g. another master's traffic or an echo).
                    Counters.BadFrame();
                    continue;
                }

                int end = offset + (int)reader.Consumed;
                if (offset > 0)
                {
                    Counters.Garbage(offset);
                }

                Buffer.BlockCopy(_rx, end, _rx, 0, _rxCount - end);
                _rxCount -= end;
                response = frame.Message;
                return true;
            }
            catch (ModbusProtocolException)
            {
                // Not a frame start: keep hunting from the next byte.
            }
        }

        return false;
    }

    private async Task WaitForSilenceAsync(CancellationToken cancellationToken)
    {
        if (_silence <= TimeSpan.Zero)
        {
            return;
        }

        var idle = Time.GetElapsedTime(_lastActivity);
        if (idle < _silence)
        {
            await Task.Delay(_silence - idle, Time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Discards bytes until the line has been quiet for a while (bounded by the caller's token).</summary>
    private async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (stream is ISerialPort port)
        {
            port.DiscardInput();
        }

        var quiet = TimeSpan.FromMilliseconds(Math.Max(20, _silence.TotalMilliseconds * 4));
        var scratch = ArrayPool<byte>.Shared.Rent(256);
        try
        {
            while (true)
            {
                using var window = new CancellationTokenSource(quiet, Time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(window.Token, cancellationToken);
                int n;
                try
                {
                    n = await stream.ReadAsync(scratch, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (n == 0)
                {
                    throw new IOException($"{Name}: line closed.");
                }

                Counters.Garbage(n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }

        Counters.Garbage(_rxCount);
        _rxCount = 0;
    }

    /// <inheritdoc />
    protected override ValueTask DisposeCoreAsync()
    {
        _transaction.Dispose();
        return ValueTask.CompletedTask;
    }
}
