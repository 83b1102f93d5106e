namespace EdgeCollector.Serial;

/// <summary>Why a serial operation failed, derived from the errno of the failing call.</summary>
public enum SerialPortError
{
    /// <summary>Any other I/O error.</summary>
    Io = 0,
    /// <summary>The device node does not exist (ENOENT, ENODEV, ENXIO).</summary>
    NoSuchDevice,
    /// <summary>The process may not open the device (EACCES, EPERM): add the user to the dialout group.</summary>
    PermissionDenied,
    /// <summary>Another process holds the port (EBUSY, or the exclusive flock is taken).</summary>
    PortInUse,
    /// <summary>The path is not a terminal device (ENOTTY).</summary>
    NotATerminal,
    /// <summary>The device went away while open (EIO, hang-up), e.g. a USB adapter unplugged.</summary>
    Disconnected,
}

/// <summary>A serial port failure with the errno mapped to a reason a plant engineer can act on.</summary>
public sealed class SerialPortException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SerialPortException(SerialPortError error, int errno, string message)
        : base(message)
    {
        Error = error;
        Errno = errno;
    }

    /// <summary>The mapped reason.</summary>
    public SerialPortError Error { get; }

    /// <summary>The raw errno (0 when the failure was not a system call).</summary>
    public int Errno { get; }
}
