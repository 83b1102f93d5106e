using System.Buffers;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace EdgeCollector.Modbus;

/// <summary>
/// Modbus TCP (MBAP) link. One writer at a time, one receive loop that matches replies to requests by
/// transaction id (Messaging on TCP/IP Implementation Guide v1.0b §3.1.3), so a late reply after a timeout is
/// recognised and dropped instead of answering the next request. With <see cref="ModbusConnectionOptions.MaxInFlight"/>
/// &gt; 1 requests pipeline on the one socket and replies may come back in any order.
/// </summary>
/// <remarks>
/// <code>
///   request ──► InFlight (≤ MaxInFlight) ──► free slot: transaction id = generation·2^k + slot, per-slot timer armed
///          ──► ADU appended to the send queue ──► one write of everything queued (the first request that finds
///              no write in progress writes; ADUs queued meanwhile leave together in the next write)
///   receive loop: one recv ──► every complete reply in it matched to its slot by transaction id (late or unknown ids
///              counted and dropped) ──► the send queue is corked, each waiting request completes inline on this
///              thread (no thread hop: its caller typically queues its next request), uncork ──► one write
///   timeout / caller cancel: completes only that slot; a reply arriving later finds the slot's id changed
///   any I/O or framing failure ──► Break: socket closed, every waiting slot failed
/// </code>
/// Completing replies inline means a caller's continuation runs on the receive loop until its next await; a
/// caller must not block there (sync-over-async on another request of this link would wait on itself).
/// Timeouts, cancellations and link failures complete their requests asynchronously (thread pool).
/// </remarks>
public sealed class ModbusTcpConnection : ModbusConnection
{
    private readonly string _host;
    private readonly int _port;
    private Session? _session;

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

        var session = new Session(this, socket);
        _session = session;
        session.ReceiveLoop = Task.Run(() => ReceiveLoopAsync(session), CancellationToken.None);
    }

    /// <inheritdoc />
    protected override async Task<ModbusResponse> ExchangeAsync(byte unitId, ModbusRequest request, CancellationToken cancellationToken)
    {
        var session = _session ?? throw Break(new IOException($"{Name}: transport closed."));
        await session.InFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            session.InFlight.Release();
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (session.RentSlot() is not { } slot)
        {
            session.InFlight.Release();
            var closed = session.Closed;
            throw new IOException($"{Name}: connection closed: {closed?.Message}", closed);
        }

        bool awaited = false;
        try
        {
            // The timeout starts once the request owns a slot, so queueing behind MaxInFlight does not eat its time.
            ushort tid = slot.Arm(cancellationToken);
            if (session.Closed is { } closed)
            {
                throw new IOException($"{Name}: connection closed: {closed.Message}", closed);
            }

            if (session.Enqueue(tid, unitId, request))
            {
                // No write in progress and the receive loop is not batching: this request writes the queue itself.
                await WriteQueuedAsync(session).ConfigureAwait(false);
            }

            awaited = true;
            var frame = await slot.Reply.ConfigureAwait(false);
            if (frame.UnitId != unitId || frame.Message.Function != request.Function)
            {
                throw new ModbusProtocolException(
                    $"{Name}: reply to transaction {tid} is unit {frame.UnitId} {frame.Message.Function}, expected unit {unitId} {request.Function} (Modbus Messaging on TCP/IP Implementation Guide v1.0b §3.1.3).");
            }

            return frame.Message;
        }
        finally
        {
            if (!awaited && !slot.Disarm())
            {
                // Someone (a reply, the timer, a link failure) is completing the slot right now: let it finish.
                try
                {
                    _ = await slot.Reply.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ModbusProtocolException)
                {
                }
            }

            session.ReturnSlot(slot);
            session.InFlight.Release();
        }
    }

    /// <summary>
    /// The writer role: one write of every ADU queued so far. Writes are not cancellable: abandoning a half-written
    /// ADU would desynchronise the stream. Whatever queued during the write goes out from a background write loop,
    /// so a request never waits on the writes of requests behind it.
    /// </summary>
    private async ValueTask WriteQueuedAsync(Session session)
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
            // Requests whose ADUs were in this write learn of it through their slots.
            BreakSession(session, ex);
        }
    }

    /// <summary>Writes what is queued; false (and the writer role released) when nothing was.</summary>
    private static async ValueTask<bool> WriteOnceAsync(Session session)
    {
        var (buffer, length) = session.TakeQueued();
        if (length == 0)
        {
            return false;
        }

        int sent = 0;
        while (sent < length)
        {
            int n = await session.Socket.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
            if (n <= 0)
            {
                throw new IOException("The socket accepted no bytes.");
            }

            sent += n;
        }

        session.ReturnWritten(buffer);
        return true;
    }

    private async Task ReceiveLoopAsync(Session session)
    {
        var buffer = new byte[16 * 1024];
        int filled = 0;
        var replies = new List<(Slot Slot, ModbusFrame<ModbusResponse> Frame)>();
        try
        {
            while (true)
            {
                if (buffer.Length - filled < ModbusTcpCodec.MaxAduLength)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                int n = await session.Socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, session.Cancel.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"{Name}: server closed the connection.");
                }

                filled += n;
                var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, filled));
                while (ModbusTcpCodec.TryReadResponse(ref reader, out var frame))
                {
                    if (session.Match(frame.TransactionId) is { } slot)
                    {
                        replies.Add((slot, frame));
                    }
                    else
                    {
                        Counters.Unmatched();
                    }
                }

                int consumed = (int)reader.Consumed;
                if (consumed > 0)
                {
                    buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                    filled -= consumed;
                }

                if (replies.Count > 0)
                {
                    CompleteAndFlush(session, replies);
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
    }

    /// <summary>
    /// Completes the matched replies of one receive inline, with the send queue corked so that the requests their
    /// callers issue meanwhile leave in one write afterwards.
    /// </summary>
    private void CompleteAndFlush(Session session, List<(Slot Slot, ModbusFrame<ModbusResponse> Frame)> replies)
    {
        session.Cork();
        try
        {
            foreach (var (slot, frame) in replies)
            {
                slot.CompleteInline(frame);
            }
        }
        finally
        {
            replies.Clear();
        }

        Flush(session);
    }

    /// <summary>Ends a batch of <paramref name="session"/> and writes what queued during it, if this call took the writer role.</summary>
    private void Flush(Session session)
    {
        if (!session.Uncork())
        {
            return;
        }

        // This thread took the writer role for what the callers queued. A write that completes synchronously (the
        // usual case) costs the caller nothing; one that waits on the kernel finishes in the background (so the
        // receive loop keeps reading replies).
        var write = WriteQueuedAsync(session);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
        }
        else
        {
            _ = ObserveAsync(write);
        }

        static async Task ObserveAsync(ValueTask write)
        {
            try
            {
                await write.ConfigureAwait(false);
            }
            catch (IOException)
            {
                // Already broken through BreakSession; the requests learn of it through their slots.
            }
        }
    }

    /// <inheritdoc />
    public override IDisposable? HoldWrites()
    {
        if (_session is not { } session)
        {
            return null;
        }

        session.Cork();
        return new WriteHold(this, session);
    }

    private sealed class WriteHold(ModbusTcpConnection owner, Session session) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Flush(session);
            }
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

    /// <inheritdoc />
    public override int MaxConcurrentRequests => Options.MaxInFlight;

    /// <summary>
    /// One pending request's place: a reusable awaitable (no allocation per request), its transaction id while
    /// waiting, and its timer. Exactly one of reply, timeout, cancellation or link failure completes it: whoever
    /// swaps <see cref="_waitingTid"/> from the armed id to -1 first.
    /// </summary>
    private sealed class Slot : IValueTaskSource<ModbusFrame<ModbusResponse>>
    {
        private readonly Session _session;
        private readonly ITimer _timer;
        private ManualResetValueTaskSourceCore<ModbusFrame<ModbusResponse>> _core;
        private int _waitingTid = -1;
        private long _deadline;
        private int _generation;
        private CancellationTokenRegistration _cancellation;

        public Slot(Session session, int index)
        {
            _session = session;
            Index = index;
            _timer = session.Owner.Time.CreateTimer(static state => ((Slot)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public int Index { get; }

        public ValueTask<ModbusFrame<ModbusResponse>> Reply => new(this, _core.Version);

        /// <summary>Picks the next transaction id of this slot, starts its timeout and listens to the caller's token.</summary>
        public ushort Arm(CancellationToken cancellationToken)
        {
            _core.Reset();
            var time = _session.Owner.Time;
            var timeout = _session.Owner.Options.Timeout;
            _generation++;
            ushort tid = unchecked((ushort)((_generation << _session.SlotBits) | Index));
            _deadline = time.GetTimestamp() + (long)(timeout.TotalSeconds * time.TimestampFrequency);
            // Full fence: the link's Closed flag is read after this (see ExchangeAsync / Session.Close).
            Interlocked.Exchange(ref _waitingTid, tid);
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(
                    static (state, token) => ((Slot)state!).Fail(new OperationCanceledException(token)), this);
            }

            return tid;
        }

        /// <summary>Claims the slot for the reply with <paramref name="transactionId"/>; false when it is not waiting for it.</summary>
        public bool TryClaim(ushort transactionId) => Interlocked.CompareExchange(ref _waitingTid, -1, transactionId) == transactionId;

        /// <summary>Completes a claimed slot on the calling thread: the caller's continuation runs here and now.</summary>
        public void CompleteInline(ModbusFrame<ModbusResponse> frame)
        {
            _core.RunContinuationsAsynchronously = false;
            _core.SetResult(frame);
        }

        /// <summary>Completes the slot with <paramref name="error"/> unless something else completed it first.</summary>
        public void Fail(Exception error)
        {
            int tid = Volatile.Read(ref _waitingTid);
            if (tid >= 0 && Interlocked.CompareExchange(ref _waitingTid, -1, tid) == tid)
            {
                _core.RunContinuationsAsynchronously = true;
                _core.SetException(error);
            }
        }

        /// <summary>Stops waiting without a result (the request failed before its reply); false when a completion won.</summary>
        public bool Disarm()
        {
            int tid = Volatile.Read(ref _waitingTid);
            return tid >= 0 && Interlocked.CompareExchange(ref _waitingTid, -1, tid) == tid;
        }

        /// <summary>Called once the request is done with the slot: timer stopped, token registration removed.</summary>
        public void Release()
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _cancellation.Dispose();
            _cancellation = default;
        }

        private void OnTimer()
        {
            int tid = Volatile.Read(ref _waitingTid);
            if (tid < 0)
            {
                return;
            }

            // A timer of a previous request of this slot may fire late: only the current deadline counts.
            var time = _session.Owner.Time;
            long remaining = Volatile.Read(ref _deadline) - time.GetTimestamp();
            if (remaining > 0)
            {
                try
                {
                    _timer.Change(TimeSpan.FromSeconds((double)remaining / time.TimestampFrequency), Timeout.InfiniteTimeSpan);
                }
                catch (ObjectDisposedException)
                {
                    // The session closed meanwhile; closing failed the request already.
                }

                return;
            }

            // Surfaces as an OperationCanceledException without the caller's token: ModbusConnection counts a timeout.
            if (Interlocked.CompareExchange(ref _waitingTid, -1, tid) == tid)
            {
                _core.RunContinuationsAsynchronously = true;
                _core.SetException(new OperationCanceledException("Modbus request timed out."));
            }
        }

        public void Dispose() => _timer.Dispose();

        ModbusFrame<ModbusResponse> IValueTaskSource<ModbusFrame<ModbusResponse>>.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<ModbusFrame<ModbusResponse>>.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource<ModbusFrame<ModbusResponse>>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private sealed class Session
    {
        private readonly object _queueLock = new();
        private readonly Slot[] _slots;
        private readonly Stack<Slot> _free;
        private byte[] _queued;
        private int _queuedLength;
        private byte[]? _spare;
        private bool _writing;
        private int _corks;
        private Exception? _closed;

        public Session(ModbusTcpConnection owner, Socket socket)
        {
            Owner = owner;
            Socket = socket;
            int maxInFlight = owner.Options.MaxInFlight;
            while ((1 << SlotBits) < maxInFlight)
            {
                SlotBits++;
            }

            _slots = new Slot[1 << SlotBits];
            _free = new Stack<Slot>(maxInFlight);
            // The slots' timers live as long as the session: they must not hold on to the connecting caller's context.
            AsyncFlowControl? suppressed = ExecutionContext.IsFlowSuppressed() ? null : ExecutionContext.SuppressFlow();
            try
            {
                for (int i = maxInFlight - 1; i >= 0; i--)
                {
                    _slots[i] = new Slot(this, i);
                    _free.Push(_slots[i]);
                }
            }
            finally
            {
                suppressed?.Undo();
            }

            InFlight = new SemaphoreSlim(maxInFlight, maxInFlight);
            _queued = new byte[Math.Min(maxInFlight, 8) * ModbusTcpCodec.MaxAduLength];
        }

        public ModbusTcpConnection Owner { get; }

        public Socket Socket { get; }

        /// <summary>Low bits of a transaction id that name the slot (0 with one request in flight: ids simply count).</summary>
        public int SlotBits { get; }

        public SemaphoreSlim InFlight { get; }

        public CancellationTokenSource Cancel { get; } = new();

        public Task? ReceiveLoop { get; set; }

        public Exception? Closed => Volatile.Read(ref _closed);

        /// <summary>A free slot (the caller holds <see cref="InFlight"/>, so there is one), or null once the session is closed.</summary>
        public Slot? RentSlot()
        {
            lock (_free)
            {
                return Closed is null && _free.TryPop(out var slot) ? slot : null;
            }
        }

        public void ReturnSlot(Slot slot)
        {
            lock (_free)
            {
                slot.Release();
                if (Closed is null)
                {
                    _free.Push(slot);
                }
                else
                {
                    // The session is dead: nothing will rent this slot again.
                    slot.Dispose();
                }
            }
        }

        /// <summary>The slot waiting for <paramref name="transactionId"/>, claimed for completion; null for a late or unknown id.</summary>
        public Slot? Match(ushort transactionId)
        {
            int index = transactionId & ((1 << SlotBits) - 1);
            return _slots[index] is { } slot && slot.TryClaim(transactionId) ? slot : null;
        }

        /// <summary>
        /// Queues the ADU of a request for the writer. True when the caller must write the queue itself: no write is
        /// in progress and the receive loop is not batching (it writes after its batch).
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
                if (_writing || _corks > 0)
                {
                    return false;
                }

                _writing = true;
                return true;
            }
        }

        /// <summary>A batch starts (the receive loop completing replies, or a caller starting several requests): requests queue without writing.</summary>
        public void Cork()
        {
            lock (_queueLock)
            {
                _corks++;
            }
        }

        /// <summary>Ends a batch. True when the caller took the writer role for bytes queued during it (and no other batch is open).</summary>
        public bool Uncork()
        {
            lock (_queueLock)
            {
                _corks--;
                if (_corks > 0 || _writing || _queuedLength == 0)
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

        public void Close(Exception reason)
        {
            if (Interlocked.CompareExchange(ref _closed, reason, null) is not null)
            {
                return;
            }

            try
            {
                Cancel.Cancel();
            }
            catch (AggregateException)
            {
            }

            Socket.Dispose();
            var failure = reason as IOException ?? new IOException(reason.Message, reason);
            foreach (var slot in _slots)
            {
                slot?.Fail(failure);
            }

            // Each slot has a timer: free slots are disposed now, rented ones when their request returns them.
            lock (_free)
            {
                foreach (var slot in _free)
                {
                    slot.Dispose();
                }

                _free.Clear();
            }
        }
    }
}
