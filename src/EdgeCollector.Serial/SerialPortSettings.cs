namespace EdgeCollector.Serial;

/// <summary>Parity of a serial line. Values are for configuration only; termios bits are derived in <see cref="LinuxSerialPort"/>.</summary>
public enum SerialParity
{
    /// <summary>No parity bit.</summary>
    None = 0,
    /// <summary>Even parity (Modbus over Serial Line v1.02 §2.5.1 default).</summary>
    Even = 1,
    /// <summary>Odd parity.</summary>
    Odd = 2,
}

/// <summary>Number of stop bits.</summary>
public enum SerialStopBits
{
    /// <summary>One stop bit.</summary>
    One = 1,
    /// <summary>Two stop bits (Modbus over Serial Line v1.02 §2.5.1 requires 2 when parity is None).</summary>
    Two = 2,
}

/// <summary>Line settings of a serial port.</summary>
/// <param name="PortName">Device path, e.g. <c>/dev/ttyUSB0</c> or a pty symlink made by socat.</param>
/// <param name="BaudRate">One of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200.</param>
/// <param name="DataBits">7 or 8.</param>
/// <param name="Parity">None, Even or Odd.</param>
/// <param name="StopBits">One or Two.</param>
public sealed record SerialPortSettings(
    string PortName,
    int BaudRate = 9600,
    int DataBits = 8,
    SerialParity Parity = SerialParity.None,
    SerialStopBits StopBits = SerialStopBits.One)
{
    /// <summary>Baud rates this collector supports (the range weight indicators and meters use).</summary>
    public static IReadOnlyList<int> SupportedBaudRates { get; } = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

    /// <summary>Bits on the wire per character: start + data + parity + stop.</summary>
    public int BitsPerCharacter => 1 + DataBits + (Parity == SerialParity.None ? 0 : 1) + (int)StopBits;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field when the settings are not supported.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(PortName))
        {
            throw new ArgumentException("Serial port name is empty.", nameof(PortName));
        }

        if (!SupportedBaudRates.Contains(BaudRate))
        {
            throw new ArgumentOutOfRangeException(nameof(BaudRate), BaudRate, $"Baud rate must be one of {string.Join(", ", SupportedBaudRates)}.");
        }

        if (DataBits is not (7 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(DataBits), DataBits, "Data bits must be 7 or 8.");
        }

        if (!Enum.IsDefined(Parity))
        {
            throw new ArgumentOutOfRangeException(nameof(Parity), Parity, "Parity must be None, Even or Odd.");
        }

        if (!Enum.IsDefined(StopBits))
        {
            throw new ArgumentOutOfRangeException(nameof(StopBits), StopBits, "Stop bits must be 1 or 2.");
        }
    }
}
