using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace EdgeCollector.Modbus;

/// <summary>
/// Modbus TCP (MBAP) link. One serialized writer, one reader loop that matches replies to
/// requests by transaction id (Messaging on TCP/IP Implementation Guide v1.0b §3.1.3), so a late
/// reply after a timeout is recognised and dropped instead of answering the next request.
/// </summary>
public sealed class ModbusTcpConnection : ModbusConnection
{
    private readonly string _host;
    private readonly int _port;
    private Session? _session;
    private int _nextTransactionId;

    /// <summary>Creates the link; nothing is opened until the first request.</summary>
    public ModbusTcpConnection(string host, int port, ModbusConnectionOptions? options = null, TimeProvider? timeProvider = null)
        : base($"tcp://{host}:{port}", options ?? new ModbusConnectionOptions(), timeProvider)
    {
        _host = host;
        _port = port;
    }

    /// <inheritdoc />
    protected override async Task ConnectCoreAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_host, _port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var session = new Session(socket, Options.MaxInFlight);
        _session = session;
        session.ReadLoop = Task.Run(() => ReadLoopAsync(session), CancellationToken.None);
    }

    /// <inheritdoc />
    protected override async Task<ModbusResponse> ExchangeAsync(byte unitId, ModbusRequest request, CancellationToken cancellationToken)
    {
        var session = _session ?? throw Break(new IOException($"{Name}: transport closed."));
        await session.InFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        ushort tid = 0;
        var timeout = StartTimeout(cancellationToken);
        cancellationToken = timeout.Token;
        try
        {
            var reply = new TaskCompletionSource<ModbusFrame<ModbusResponse>>(TaskCreationOptions.RunContinuationsAsynchronously);
            do
            {
                tid = unchecked((ushort)Interlocked.Increment(ref _nextTransactionId));
            }
            while (!session.Pending.TryAdd(tid, reply));

            if (session.Closed is { } closed)
            {
                throw new IOException($"{Name}: connection closed: {closed.Message}", closed);
            }

            if (session.Enqueue(tid, unitId, request))
            {
                // No write in progress: this request writes the queued bytes itself (its own ADU at least).
                await WriteQueuedAsync(session).ConfigureAwait(false);
            }

            ModbusFrame<ModbusResponse> frame;
            using (cancellationToken.Register(static state => ((TaskCompletionSource<ModbusFrame<ModbusResponse>>)state!).TrySetCanceled(), reply))
            {
                frame = await reply.Task.ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (frame.UnitId != unitId || frame.Message.Function != request.Function)
            {
                throw new ModbusProtocolException(
                    $"{Name}: reply to transaction {tid} is unit {frame.UnitId} {frame.Message.Function}, expected unit {unitId} {request.Function} (Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3).");
            }

            return frame.Message;
        }
        finally
        {
            session.Pending.TryRemove(tid, out _);
            session.InFlight.Release();
            timeout.Dispose();
        }
    }

    /// <summary>
    /// The single writer of a session: one write of every ADU queued so far (pipelined requests that queued
    /// while the previous write was in the kernel go out together, in one send). Writes are not cancellable:
    /// abandoning a half-written ADU would desynchronise the stream. Whatever queued during this write is
    /// handed to a background write loop, so a request never waits on the writes of requests behind it.
    /// </summary>
    private async Task WriteQueuedAsync(Session session)
    {
        try
        {
            if (!await WriteOnceAsync(session).ConfigureAwait(false))
            {
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw BreakSession(session, ex);
        }

        if (!session.EndWriteUnlessQueued())
        {
            _ = Task.Run(() => WriteLoopAsync(session), CancellationToken.None);
        }
    }

    private async Task WriteLoopAsync(Session session)
    {
        try
        {
            while (await WriteOnceAsync(session).ConfigureAwait(false))
            {
            }
        }
        catch (Exception ex)
        {
            // Requests whose ADUs were in this write learn of it through their pending replies.
            BreakSession(session, ex);
        }
    }

    /// <summary>Writes what is queued; false (and the writer role released) when nothing was.</summary>
    private static async Task<bool> WriteOnceAsync(Session session)
    {
        var (buffer, length) = session.TakeQueued();
        if (length == 0)
        {
            return false;
        }

        await session.Stream.WriteAsync(buffer.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
        session.ReturnWritten(buffer);
        return true;
    }

    private async Task ReadLoopAsync(Session session)
    {
        var reader = session.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(session.Cancel.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var consumed = buffer.Start;
                try
                {
                    var sequenceReader = new SequenceReader<byte>(buffer);
                    while (ModbusTcpCodec.TryReadResponse(ref sequenceReader, out var frame))
                    {
                        if (session.Pending.TryRemove(frame.TransactionId, out var pending))
                        {
                            pending.TrySetResult(frame);
                        }
                        else
                        {
                            Counters.Unmatched();
                        }
                    }

                    consumed = sequenceReader.Position;
                }
                finally
                {
                    reader.AdvanceTo(consumed, buffer.End);
                }

                if (result.IsCompleted)
                {
                    throw new IOException($"{Name}: server closed the connection.");
                }
            }
        }
        catch (OperationCanceledException) when (session.Cancel.IsCancellationRequested)
        {
            // Closed on purpose.
        }
        catch (ModbusProtocolException ex)
        {
            // A bad MBAP header leaves no way to find the next frame: the connection must go.
            Counters.BadFrame();
            BreakSession(session, new IOException($"{Name}: {ex.Message}", ex));
        }
        catch (Exception ex)
        {
            BreakSession(session, ex);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private IOException BreakSession(Session session, Exception ex)
    {
        if (ReferenceEquals(Volatile.Read(ref _session), session))
        {
            return Break(ex);
        }

        session.Close(ex);
        return ex as IOException ?? new IOException(ex.Message, ex);
    }

    /// <inheritdoc />
    protected override void CloseCore(Exception reason)
    {
        var session = Interlocked.Exchange(ref _session, null);
        session?.Close(reason);
    }

    /// <inheritdoc />
    protected override bool BreakOnRepeatedTimeouts => true;

    private sealed class Session
    {
        public Session(Socket socket, int maxInFlight)
        {
            Socket = socket;
            Stream = new NetworkStream(socket, ownsSocket: true);
            Reader = PipeReader.Create(Stream, new StreamPipeReaderOptions(leaveOpen: true));
            InFlight = new SemaphoreSlim(maxInFlight, maxInFlight);
            _queued = new byte[Math.Min(maxInFlight, 8) * ModbusTcpCodec.MaxAduLength];
        }

        /// <summary>
        /// Queues the ADU of a request for the writer. True when no write is in progress: the caller is now the
        /// writer and must call <see cref="WriteQueuedAsync"/>.
        /// </summary>
        public bool Enqueue(ushort transactionId, byte unitId, ModbusRequest request)
        {
            lock (_queueLock)
            {
                if (_queued.Length - _queuedLength < ModbusTcpCodec.MaxAduLength)
                {
                    Array.Resize(ref _queued, _queued.Length * 2);
                }

                _queuedLength += ModbusTcpCodec.WriteRequest(transactionId, unitId, request, _queued.AsSpan(_queuedLength));
                if (_writing)
                {
                    return false;
                }

                _writing = true;
                return true;
            }
        }

        /// <summary>Takes the queued bytes (the writer only); when there are none, the writer role ends.</summary>
        public (byte[] Buffer, int Length) TakeQueued()
        {
            lock (_queueLock)
            {
                if (_queuedLength == 0)
                {
                    _writing = false;
                    return (_queued, 0);
                }

                var taken = (_queued, _queuedLength);
                _queued = _spare is { } spare && spare.Length >= _queued.Length ? spare : new byte[_queued.Length];
                _spare = null;
                _queuedLength = 0;
                return taken;
            }
        }

        /// <summary>Gives a written buffer back for reuse.</summary>
        public void ReturnWritten(byte[] buffer)
        {
            lock (_queueLock)
            {
                _spare = buffer;
            }
        }

        /// <summary>Ends the writer role unless bytes queued meanwhile (then the caller must keep writing them).</summary>
        public bool EndWriteUnlessQueued()
        {
            lock (_queueLock)
            {
                if (_queuedLength > 0)
                {
                    return false;
                }

                _writing = false;
                return true;
            }
        }

        public Socket Socket { get; }

        public NetworkStream Stream { get; }

        public PipeReader Reader { get; }

        private readonly object _queueLock = new();
        private byte[] _queued;
        private int _queuedLength;
        private byte[]? _spare;
        private bool _writing;

        public SemaphoreSlim InFlight { get; }

        public CancellationTokenSource Cancel { get; } = new();

        public ConcurrentDictionary<ushort, TaskCompletionSource<ModbusFrame<ModbusResponse>>> Pending { get; } = new();

        public Task? ReadLoop { get; set; }

        public Exception? Closed { get; private set; }

        public void Close(Exception reason)
        {
            if (Closed is not null)
            {
                return;
            }

            Closed = reason;
            try
            {
                Cancel.Cancel();
            }
            catch (AggregateException)
            {
            }

            Stream.Dispose();
            var failure = reason as IOException ?? new IOException(reason.Message, reason);
            foreach (var pending in Pending.Values)
            {
                pending.TrySetException(failure);
            }
        }
    }
}
