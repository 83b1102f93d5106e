using System.Runtime.InteropServices;

namespace EdgeCollector.Serial;

/// <summary>
/// A serial port on Linux driven through termios (P/Invoke on libc), usable for real UARTs,
/// USB adapters and pseudo-terminals (socat pty pairs in tests).
/// </summary>
/// <remarks>
/// The descriptor is opened non-blocking. A read first tries <c>read(2)</c>; when nothing is
/// buffered it waits in <c>poll(2)</c> on the port's own background thread (started on first wait),
/// in slices of <see cref="PollSliceMs"/>, so no pool thread is ever blocked and nothing spins;
/// cancellation completes a wait at once, dispose within one slice. Exclusive access is taken
/// with <c>flock(LOCK_EX|LOCK_NB)</c>, which (unlike TIOCEXCL) also holds against root.
/// </remarks>
public sealed class LinuxSerialPort : Stream, ISerialPort
{
    /// <summary>Longest a waiting read or write sleeps in one poll call before re-checking cancellation.</summary>
    public const int PollSliceMs = 50;

    private readonly SafeFdHandle _fd;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly object _waitLock = new();
    private readonly List<PendingWait> _waits = [];
    private Thread? _waiter;
    private int _disposed;

    private LinuxSerialPort(SafeFdHandle fd, SerialPortSettings settings)
    {
        _fd = fd;
        Settings = settings;
    }

    /// <inheritdoc />
    public SerialPortSettings Settings { get; }

    /// <summary>Opens and configures the port (raw mode, no flow control, exclusive).</summary>
    /// <exception cref="SerialPortException">No such device, permission denied, port in use, not a terminal.</exception>
    /// <exception cref="ArgumentException">Unsupported settings.</exception>
    public static LinuxSerialPort Open(SerialPortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("LinuxSerialPort needs Linux termios.");
        }

        int raw = LibC.Open(settings.PortName, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (raw < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), settings.PortName, "open");
        }

        var fd = new SafeFdHandle(raw);
        try
        {
            if (LibC.Flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw errno == LibC.EAGAIN
                    ? new SerialPortException(SerialPortError.PortInUse, errno, $"Serial port {settings.PortName} is in use by another process or connection.")
                    : Error(errno, settings.PortName, "flock");
            }

            Configure(fd, settings);
            return new LinuxSerialPort(fd, settings);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Maps an errno from a failing call on <paramref name="portName"/> to a <see cref="SerialPortException"/>.</summary>
    public static SerialPortException Error(int errno, string portName, string call)
    {
        (SerialPortError error, string text) = errno switch
        {
            LibC.ENOENT or LibC.ENODEV or LibC.ENXIO => (SerialPortError.NoSuchDevice, $"Serial port {portName} does not exist"),
            LibC.EACCES or LibC.EPERM => (SerialPortError.PermissionDenied, $"Permission denied on serial port {portName} (is the user in the dialout group?)"),
            LibC.EBUSY => (SerialPortError.PortInUse, $"Serial port {portName} is in use"),
            LibC.ENOTTY => (SerialPortError.NotATerminal, $"{portName} is not a serial device"),
            LibC.EIO => (SerialPortError.Disconnected, $"Serial port {portName} was disconnected"),
            _ => (SerialPortError.Io, $"Serial port {portName} failed"),
        };
        return new SerialPortException(error, errno, $"{text} ({call}: errno {errno}, {Marshal.GetPInvokeErrorMessage(errno)}).");
    }

    private static unsafe void Configure(SafeFdHandle fd, SerialPortSettings s)
    {
        LibC.Termios t;
        if (LibC.TcGetAttr(fd, &t) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), s.PortName, "tcgetattr");
        }

        // The cfmakeraw(3) recipe, spelled out so every bit is visible: no input translation,
        // no output processing, no echo/canonical mode/signals, no software flow control.
        t.c_iflag &= ~(LibC.IGNBRK | LibC.BRKINT | LibC.PARMRK | LibC.ISTRIP | LibC.INLCR | LibC.IGNCR | LibC.ICRNL
            | LibC.IXON | LibC.IXOFF | LibC.IXANY | LibC.INPCK | LibC.IGNPAR);
        t.c_oflag &= ~LibC.OPOST;
        t.c_lflag &= ~(LibC.ECHO | LibC.ECHONL | LibC.ICANON | LibC.ISIG | LibC.IEXTEN);
        t.c_cflag &= ~(LibC.CSIZE | LibC.PARENB | LibC.PARODD | LibC.CSTOPB | LibC.CRTSCTS);
        t.c_cflag |= LibC.CREAD | LibC.CLOCAL | (s.DataBits == 7 ? LibC.CS7 : LibC.CS8);
        if (s.Parity != SerialParity.None)
        {
            t.c_cflag |= LibC.PARENB | (s.Parity == SerialParity.Odd ? LibC.PARODD : 0);
            // Check parity on input; without IGNPAR/PARMRK a byte with a parity error reads as 0x00,
            // which the frame check of the protocol on top (Modbus CRC, scale checksums) then rejects.
            t.c_iflag |= LibC.INPCK;
        }

        if (s.StopBits == SerialStopBits.Two)
        {
            t.c_cflag |= LibC.CSTOPB;
        }

        // VMIN 1 / VTIME 0 with O_NONBLOCK: an empty queue gives EAGAIN, so read(2) returning 0
        // means hang-up only (with VMIN 0 the n_tty driver returns 0 for "no data" as well).
        t.c_cc[LibC.VMIN] = 1;
        t.c_cc[LibC.VTIME] = 0;

        uint speed = LibC.BaudConstant(s.BaudRate);
        if (LibC.CfSetISpeed(&t, speed) != 0 || LibC.CfSetOSpeed(&t, speed) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), s.PortName, "cfsetspeed");
        }

        if (LibC.TcSetAttr(fd, LibC.TCSANOW, &t) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), s.PortName, "tcsetattr");
        }

        // Stale bytes from before we opened the port are not ours to interpret.
        _ = LibC.TcFlush(fd, LibC.TCIOFLUSH);
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            cancellationToken.ThrowIfCancellationRequested();
            int n = TryReadNow(buffer.Span);
            if (n >= 0)
            {
                return n;
            }

            await WaitAsync(LibC.POLLIN, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!buffer.IsEmpty)
            {
                ObjectDisposedException.ThrowIf(_disposed != 0, this);
                cancellationToken.ThrowIfCancellationRequested();
                int n = TryWriteNow(buffer.Span);
                if (n >= 0)
                {
                    buffer = buffer[n..];
                    continue;
                }

                await WaitAsync(LibC.POLLOUT, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public void DiscardInput()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (LibC.TcFlush(_fd, LibC.TCIFLUSH) != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), Settings.PortName, "tcflush");
        }
    }

    /// <inheritdoc />
    public Stream AsStream() => this;

    /// <summary>read(2) once: bytes read, 0 on hang-up, -1 when nothing is buffered.</summary>
    private unsafe int TryReadNow(Span<byte> buffer)
    {
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.Read(_fd, p, buffer.Length);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno == LibC.EAGAIN)
            {
                return -1;
            }

            throw Error(errno, Settings.PortName, "read");
        }
    }

    private unsafe int TryWriteNow(ReadOnlySpan<byte> buffer)
    {
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.Write(_fd, p, buffer.Length);
            }

            if (n >= 0)
            {
                return (int)n;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno == LibC.EAGAIN)
            {
                return -1;
            }

            throw Error(errno, Settings.PortName, "write");
        }
    }

    /// <summary>
    /// Waits until the descriptor is ready for <paramref name="events"/>. The waiting happens on the
    /// port's own thread, never on a pool thread: blocking pool threads in <c>poll(2)</c> would starve
    /// the rest of an async host as ports are added. Cancellation completes the task at once.
    /// </summary>
    private Task WaitAsync(short events, CancellationToken cancellationToken)
    {
        var wait = new PendingWait(events, cancellationToken);
        lock (_waitLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _waits.Add(wait);
            if (_waiter is null)
            {
                _waiter = new Thread(WaiterLoop) { IsBackground = true, Name = $"serial {Settings.PortName}" };
                _waiter.Start();
            }

            Monitor.Pulse(_waitLock);
        }

        return wait.Task;
    }

    /// <summary>The port's waiter thread: one poll(2) for every pending read and write wait.</summary>
    private unsafe void WaiterLoop()
    {
        var ready = new List<PendingWait>();
        while (true)
        {
            short events = 0;
            lock (_waitLock)
            {
                _waits.RemoveAll(w => w.Task.IsCompleted); // cancelled meanwhile
                while (_waits.Count == 0 && _disposed == 0)
                {
                    Monitor.Wait(_waitLock);
                    _waits.RemoveAll(w => w.Task.IsCompleted);
                }

                if (_disposed != 0)
                {
                    FailAll(new ObjectDisposedException(nameof(LinuxSerialPort)));
                    return;
                }

                foreach (var w in _waits)
                {
                    events |= w.Events;
                }
            }

            bool addedRef = false;
            int rc;
            short revents = 0;
            int errno = 0;
            try
            {
                _fd.DangerousAddRef(ref addedRef);
                var pfd = new LibC.PollFd { fd = _fd.Fd, events = events };
                // A bounded slice, so that dispose and newly queued waits are noticed within PollSliceMs.
                rc = LibC.Poll(&pfd, 1, PollSliceMs);
                errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
                revents = pfd.revents;
            }
            catch (ObjectDisposedException)
            {
                lock (_waitLock)
                {
                    FailAll(new ObjectDisposedException(nameof(LinuxSerialPort)));
                }

                return;
            }
            finally
            {
                if (addedRef)
                {
                    _fd.DangerousRelease();
                }
            }

            if (rc < 0 && errno != LibC.EINTR)
            {
                lock (_waitLock)
                {
                    FailAll(Error(errno, Settings.PortName, "poll"));
                }

                continue;
            }

            if (rc <= 0)
            {
                continue;
            }

            // POLLHUP/POLLERR wake every waiter: the following read(2)/write(2) reports the condition.
            short wake = (short)(revents & (LibC.POLLERR | LibC.POLLHUP | LibC.POLLNVAL));
            ready.Clear();
            lock (_waitLock)
            {
                foreach (var w in _waits)
                {
                    if ((revents & w.Events) != 0 || wake != 0)
                    {
                        ready.Add(w);
                    }
                }

                _waits.RemoveAll(ready.Contains);
            }

            foreach (var w in ready)
            {
                w.Complete();
            }
        }
    }

    /// <summary>Fails every pending wait. Caller holds <see cref="_waitLock"/>.</summary>
    private void FailAll(Exception error)
    {
        foreach (var w in _waits)
        {
            w.Fail(error);
        }

        _waits.Clear();
    }

    /// <summary>One awaited readiness condition.</summary>
    private sealed class PendingWait
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;

        public PendingWait(short events, CancellationToken cancellationToken)
        {
            Events = events;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.Register(static state =>
                {
                    var (completion, token) = ((TaskCompletionSource, CancellationToken))state!;
                    completion.TrySetCanceled(token);
                }, (_completion, cancellationToken));
            }
        }

        public short Events { get; }

        public Task Task => _completion.Task;

        public void Complete()
        {
            _registration.Dispose();
            _completion.TrySetResult();
        }

        public void Fail(Exception error)
        {
            _registration.Dispose();
            _completion.TrySetException(error);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && disposing)
        {
            lock (_waitLock)
            {
                // Pending waits end now; the waiter thread exits after its current poll slice.
                FailAll(new ObjectDisposedException(nameof(LinuxSerialPort)));
                Monitor.Pulse(_waitLock);
            }

            // The handle closes once the waiter's in-flight poll (≤ PollSliceMs) releases its reference.
            _fd.Dispose();
            _writeLock.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    // Stream plumbing. Sync I/O is deliberately unsupported (async only, style.md "Wire code").

    /// <inheritdoc />
    public override bool CanRead => _disposed == 0;

    /// <inheritdoc />
    public override bool CanWrite => _disposed == 0;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Serial ports are async only: use ReadAsync.");

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Serial ports are async only: use WriteAsync.");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
