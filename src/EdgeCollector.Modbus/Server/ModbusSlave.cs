using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using EdgeCollector.Serial;

namespace EdgeCollector.Modbus;

/// <summary>Counters of a slave, for tests and diagnostics. Thread-safe.</summary>
public sealed class ModbusSlaveCounters
{
    private long _requests;
    private long _badFrames;
    private long _garbageBytes;

    /// <summary>Requests decoded.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Well-delimited frames with invalid content (answered with an exception code where possible).</summary>
    public long BadFrames => Interlocked.Read(ref _badFrames);

    /// <summary>Bytes discarded on an RTU line while hunting for a frame (noise, CRC errors, unknown functions).</summary>
    public long GarbageBytes => Interlocked.Read(ref _garbageBytes);

    internal void Request() => Interlocked.Increment(ref _requests);

    internal void BadFrame() => Interlocked.Increment(ref _badFrames);

    internal void Garbage(long n) => Interlocked.Add(ref _garbageBytes, n);
}

/// <summary>How a TCP slave frames its traffic.</summary>
public enum ModbusTcpFraming
{
    /// <summary>Modbus TCP with MBAP headers.</summary>
    Mbap,
    /// <summary>RTU frames (address + PDU + CRC) over TCP, as serial gateways in transparent mode speak.</summary>
    Rtu,
}

/// <summary>
/// A Modbus slave listening on TCP (MBAP, or RTU over TCP), serving the units of a <see cref="ModbusUnitMap"/>.
/// The same codec as the master decodes requests and encodes replies.
/// </summary>
public sealed class ModbusTcpSlave : IAsyncDisposable
{
    private readonly ModbusUnitMap _units;
    private readonly ModbusTcpFraming _framing;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private readonly List<Socket> _sockets = [];
    private Task? _acceptLoop;

    /// <summary>Creates the slave; call <see cref="Start"/>.</summary>
    /// <param name="units">Units served.</param>
    /// <param name="endpoint">Where to listen; default 127.0.0.1 on a free port.</param>
    /// <param name="framing">MBAP or RTU framing.</param>
    public ModbusTcpSlave(ModbusUnitMap units, IPEndPoint? endpoint = null, ModbusTcpFraming framing = ModbusTcpFraming.Mbap)
    {
        _units = units ?? throw new ArgumentNullException(nameof(units));
        _framing = framing;
        _listener = new TcpListener(endpoint ?? new IPEndPoint(IPAddress.Loopback, 0));
    }

    /// <summary>Counters.</summary>
    public ModbusSlaveCounters Counters { get; } = new();

    /// <summary>Bound endpoint (valid after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Delay before each reply (simulates a slow device).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Starts listening.</summary>
    public ModbusTcpSlave Start()
    {
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
        return this;
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                lock (_clients)
                {
                    _sockets.Add(socket);
                    _clients.Add(Task.Run(() => ServeAsync(socket)));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (_framing == ModbusTcpFraming.Rtu)
            {
                await ModbusRtuSlave.ServeAsync(stream, _units, Counters, ModbusRtuSlave.PartialFrameTimeout(TimeSpan.Zero), ResponseDelay, _stop.Token).ConfigureAwait(false);
            }
            else
            {
                await ServeMbapAsync(stream).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Client gone or slave stopped.
        }
        finally
        {
            lock (_clients)
            {
                _sockets.Remove(socket);
            }
        }
    }

    private async Task ServeMbapAsync(NetworkStream stream)
    {
        var reader = PipeReader.Create(stream);
        byte[] output = new byte[ModbusTcpCodec.MaxAduLength * 8];
        var replies = new List<(ushort Tid, byte Unit, ModbusResponse Response)>();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                replies.Clear();
                bool close = false;
                var sequence = new SequenceReader<byte>(buffer);
                try
                {
                    while (true)
                    {
                        try
                        {
                            if (!ModbusTcpCodec.TryReadRequest(ref sequence, out var frame))
                            {
                                break;
                            }

                            Counters.Request();
                            if (_units.Handle(frame.UnitId, frame.Message) is { } response)
                            {
                                replies.Add((frame.TransactionId, frame.UnitId, response));
                            }
                        }
                        catch (ModbusProtocolException ex) when (ex.FrameLength is { } length)
                        {
                            // Framed but invalid: answer with the exception code the spec prescribes (§7).
                            Counters.BadFrame();
                            sequence.Advance(length);
                            if (ex.ExceptionCode is { } code && _units.Answers(ex.UnitId))
                            {
                                replies.Add((ex.TransactionId, ex.UnitId, ModbusResponse.Exception((ModbusFunctionCode)(ex.FunctionCode & 0x7F), code)));
                            }
                        }
                        catch (ModbusProtocolException)
                        {
                            // A broken MBAP header: the stream cannot be resynchronised (§3.1.3).
                            Counters.BadFrame();
                            close = true;
                            break;
                        }
                    }
                }
                finally
                {
                    reader.AdvanceTo(sequence.Position, buffer.End);
                }

                if (ResponseDelay > TimeSpan.Zero)
                {
                    foreach (var (tid, unit, response) in replies)
                    {
                        await Task.Delay(ResponseDelay, _stop.Token).ConfigureAwait(false);
                        int n = ModbusTcpCodec.WriteResponse(tid, unit, response, output);
                        await stream.WriteAsync(output.AsMemory(0, n), _stop.Token).ConfigureAwait(false);
                    }
                }
                else if (replies.Count > 0)
                {
                    // Pipelined requests that arrived together are answered in one write (one send, one segment),
                    // in request order.
                    int length = 0;
                    foreach (var (tid, unit, response) in replies)
                    {
                        if (output.Length - length < ModbusTcpCodec.MaxAduLength)
                        {
                            Array.Resize(ref output, output.Length * 2);
                        }

                        length += ModbusTcpCodec.WriteResponse(tid, unit, response, output.AsSpan(length));
                    }

                    await stream.WriteAsync(output.AsMemory(0, length), _stop.Token).ConfigureAwait(false);
                }

                if (close || result.IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening and closes every client connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Task[] pending;
        lock (_clients)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            pending = [.. _clients, _acceptLoop ?? Task.CompletedTask];
        }

        await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>A Modbus RTU slave on a serial line (or any stream).</summary>
public sealed class ModbusRtuSlave : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ModbusRtuSlave(Stream stream, ModbusUnitMap units, TimeSpan frameGap)
    {
        _stream = stream;
        _loop = Task.Run(async () =>
        {
            try
            {
                await ServeAsync(stream, units, Counters, frameGap, TimeSpan.Zero, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Stopped or line gone.
            }
        });
    }

    /// <summary>Counters.</summary>
    public ModbusSlaveCounters Counters { get; } = new();

    /// <summary>Serves <paramref name="units"/> on a serial port.</summary>
    public static ModbusRtuSlave Start(SerialPortSettings settings, ModbusUnitMap units)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var port = LinuxSerialPort.Open(settings);
        var silence = ModbusRtuConnection.InterFrameSilenceFor(settings.BaudRate, settings.BitsPerCharacter);
        return new ModbusRtuSlave(port, units, PartialFrameTimeout(silence));
    }

    /// <summary>Serves <paramref name="units"/> on an already open stream (owned by the slave).</summary>
    public static ModbusRtuSlave Start(Stream stream, ModbusUnitMap units) => new(stream, units, PartialFrameTimeout(TimeSpan.Zero));

    /// <summary>
    /// How long a partial frame may wait for its next byte before its first byte is abandoned. The spec's
    /// t1.5 (§2.5.1.1) is far shorter, but USB adapters, ptys and gateways deliver bytes in bursts with
    /// OS scheduling gaps between them; 100 ms keeps a loaded host from cutting real frames.
    /// </summary>
    internal static TimeSpan PartialFrameTimeout(TimeSpan silence) => TimeSpan.FromMilliseconds(Math.Max(100, silence.TotalMilliseconds));

    /// <summary>
    /// The RTU slave loop. A partial frame that sees no byte for <paramref name="frameGap"/> is abandoned
    /// one byte at a time (§2.5.1.1: a silent interval ends a frame); bytes that start no valid frame are
    /// dropped and counted as garbage. Requests for other unit ids and broadcasts are not answered (§2.1).
    /// </summary>
    internal static async Task ServeAsync(Stream stream, ModbusUnitMap units, ModbusSlaveCounters counters, TimeSpan frameGap, TimeSpan responseDelay, CancellationToken cancellationToken)
    {
        byte[] rx = new byte[1024];
        byte[] tx = new byte[ModbusRtuCodec.MaxAduLength];
        int count = 0;
        while (true)
        {
            // Take every complete request out of the buffer.
            while (count > 0)
            {
                var scan = Scan(rx, count, out var frame, out int skip, out int frameLength, out var error);
                if (scan == ScanResult.NeedMore)
                {
                    break;
                }

                counters.Garbage(skip);
                ModbusResponse? reply = null;
                byte unit = 0;
                if (scan == ScanResult.Frame)
                {
                    counters.Request();
                    unit = frame.UnitId;
                    reply = units.Handle(frame.UnitId, frame.Message);
                }
                else if (scan == ScanResult.BadFrame)
                {
                    counters.BadFrame();
                    unit = error!.UnitId;
                    if (error.ExceptionCode is { } code && unit != 0 && units.Answers(unit))
                    {
                        reply = ModbusResponse.Exception((ModbusFunctionCode)(error.FunctionCode & 0x7F), code);
                    }
                }

                int consumed = skip + frameLength;
                Buffer.BlockCopy(rx, consumed, rx, 0, count - consumed);
                count -= consumed;
                if (reply is not null)
                {
                    if (responseDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(responseDelay, cancellationToken).ConfigureAwait(false);
                    }

                    int n = ModbusRtuCodec.WriteResponse(unit, reply, tx);
                    await stream.WriteAsync(tx.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
            }

            if (count == rx.Length)
            {
                counters.Garbage(1);
                Buffer.BlockCopy(rx, 1, rx, 0, --count);
                continue;
            }

            int read;
            if (count == 0)
            {
                read = await stream.ReadAsync(rx.AsMemory(count), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                using var gap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                gap.CancelAfter(frameGap);
                try
                {
                    read = await stream.ReadAsync(rx.AsMemory(count), gap.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Silence inside a frame: the first byte cannot start a frame after all.
                    counters.Garbage(1);
                    Buffer.BlockCopy(rx, 1, rx, 0, --count);
                    continue;
                }
            }

            if (read == 0)
            {
                return;
            }

            count += read;
        }
    }

    private enum ScanResult
    {
        NeedMore,
        Frame,
        BadFrame,
        Skip,
    }

    /// <summary>
    /// Finds the first request in the buffer; <paramref name="skip"/> bytes before it are garbage.
    /// A complete CRC-valid frame further on wins over an incomplete one at the start, so a noise byte
    /// that predicts a long frame does not hold up the real request behind it.
    /// </summary>
    private static ScanResult Scan(byte[] rx, int count, out ModbusFrame<ModbusRequest> frame, out int skip, out int frameLength, out ModbusProtocolException? error)
    {
        frame = default;
        error = null;
        frameLength = 0;
        int firstPartial = -1;
        for (skip = 0; skip < count; skip++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(rx, skip, count - skip));
            try
            {
                if (ModbusRtuCodec.TryReadRequest(ref reader, out frame))
                {
                    frameLength = (int)reader.Consumed;
                    return ScanResult.Frame;
                }

                if (firstPartial < 0)
                {
                    firstPartial = skip;
                }
            }
            catch (ModbusProtocolException ex) when (ex.FrameLength is { } length)
            {
                frameLength = length;
                error = ex;
                return ScanResult.BadFrame;
            }
            catch (ModbusProtocolException)
            {
                // Not a frame start (bad address, unknown function, CRC mismatch).
            }
        }

        skip = firstPartial < 0 ? count : firstPartial;
        return skip == 0 ? ScanResult.NeedMore : ScanResult.Skip;
    }

    /// <summary>Stops the slave and closes its line.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
        }
    }
}
