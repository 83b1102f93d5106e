namespace EdgeCollector.Serial;

/// <summary>
/// An open serial line. Async only: reads wait with <c>poll(2)</c> and honour cancellation;
/// disposing the port ends pending reads. Implementations are also a <see cref="Stream"/>
/// (see <see cref="AsStream"/>) so that a <c>PipeReader</c> can sit on top.
/// </summary>
public interface ISerialPort : IAsyncDisposable, IDisposable
{
    /// <summary>The settings the port was opened with.</summary>
    SerialPortSettings Settings { get; }

    /// <summary>
    /// Reads at least one byte, waiting until data arrives or <paramref name="cancellationToken"/> fires.
    /// Returns 0 only when the line has hung up.
    /// </summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Writes all of <paramref name="buffer"/> to the line.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Drops bytes received but not yet read (<c>tcflush(TCIFLUSH)</c>), e.g. after a garbled frame.</summary>
    void DiscardInput();

    /// <summary>The port as a non-seekable <see cref="Stream"/> whose sync members throw.</summary>
    Stream AsStream();
}

/// <summary>Opens serial ports; lets drivers take a fake in unit tests.</summary>
public interface ISerialPortFactory
{
    /// <summary>Opens and configures the port.</summary>
    /// <exception cref="SerialPortException">No such device, permission denied, port in use, not a terminal.</exception>
    ISerialPort Open(SerialPortSettings settings);
}

/// <summary>Opens <see cref="LinuxSerialPort"/>s.</summary>
public sealed class LinuxSerialPortFactory : ISerialPortFactory
{
    /// <summary>Shared instance.</summary>
    public static LinuxSerialPortFactory Instance { get; } = new();

    /// <inheritdoc />
    public ISerialPort Open(SerialPortSettings settings) => LinuxSerialPort.Open(settings);
}
