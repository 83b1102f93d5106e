using System.Globalization;
using System.Net.Sockets;
using EdgeCollector.Serial;

namespace EdgeCollector.Scales;

/// <summary>Stream openers for <see cref="ScaleLink"/>.</summary>
public static class ScaleStreams
{
    /// <summary>
    /// Opens a TCP connection to a serial-to-Ethernet converter in raw TCP-server mode
    /// (contracts.md §1 <c>"Tcp": "host:port"</c>).
    /// </summary>
    /// <param name="hostPort"><c>host:port</c>, e.g. <c>10.0.0.7:4001</c> or <c>[::1]:4001</c>.</param>
    /// <param name="connectTimeout">Longest wait for the connection; 5 s when null.</param>
    /// <exception cref="FormatException"><paramref name="hostPort"/> is not <c>host:port</c>.</exception>
    public static Func<CancellationToken, ValueTask<Stream>> Tcp(string hostPort, TimeSpan? connectTimeout = null)
    {
        if (!TryParseHostPort(hostPort, out string host, out int port))
        {
            throw new FormatException($"'{hostPort}' is not host:port.");
        }

        var timeout = connectTimeout ?? TimeSpan.FromSeconds(5);
        return async cancellationToken =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // Keep-alive so that a converter that vanished without a FIN is noticed by the OS too,
                // within about a minute rather than the two-hour default.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 30);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
                using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeoutCts.CancelAfter(timeout);
                await socket.ConnectAsync(host, port, timeoutCts.Token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
    }

    /// <summary>
    /// Opens a serial port (contracts.md §1 <c>"Port"</c>, <c>"Baud"</c>, <c>"Parity"</c>) in raw mode.
    /// Weight indicators are 8N1 or 7E1; pass the indicator's setting.
    /// </summary>
    public static Func<CancellationToken, ValueTask<Stream>> Serial(SerialPortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return cancellationToken =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream stream = LinuxSerialPort.Open(settings);
            return ValueTask.FromResult(stream);
        };
    }

    /// <summary>
    /// Opens a character device or pty as a plain file, without touching its line settings.
    /// For ptys made by <c>socat … pty,raw,echo=0</c> and ports already configured (<c>stty</c>).
    /// </summary>
    public static Func<CancellationToken, ValueTask<Stream>> File(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return cancellationToken =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.Asynchronous);
            return ValueTask.FromResult(stream);
        };
    }

    /// <summary>Parses <c>host:port</c>; IPv6 hosts in brackets.</summary>
    public static bool TryParseHostPort(string? text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        string h = text[..colon];
        if (h.StartsWith('[') && h.EndsWith(']'))
        {
            h = h[1..^1];
        }
        else if (h.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        if (h.Length == 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            || port is < 1 or > 65535)
        {
            port = 0;
            return false;
        }

        host = h;
        return true;
    }
}
