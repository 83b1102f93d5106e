using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.OpcUa.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 that can freeze its current connections (stop forwarding without closing them),
/// like a half-open link, or cut them. New connections after a freeze forward normally.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server, CancellationTokenSource Frozen)> _links = [];
    private readonly Task _accept;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>When set, the last byte of the next client-to-server read is flipped (then the flag clears).</summary>
    public bool CorruptNextToServer { get; set; }

    public int Connections
    {
        get
        {
            lock (_links)
                return _links.Count;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            var frozen = new CancellationTokenSource();
            lock (_links)
                _links.Add((client, server, frozen));
            _ = PumpAsync(client.GetStream(), server.GetStream(), frozen.Token, toServer: true);
            _ = PumpAsync(server.GetStream(), client.GetStream(), frozen.Token, toServer: false);
        }
    }

    private async Task PumpAsync(Stream from, Stream to, CancellationToken frozen, bool toServer)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer);
                if (n == 0)
                    break;
                if (frozen.IsCancellationRequested)
                    continue;
                if (toServer && CorruptNextToServer)
                {
                    CorruptNextToServer = false;
                    buffer[n - 1] ^= 0xFF;
                }

                await to.WriteAsync(buffer.AsMemory(0, n));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
        }

        if (!frozen.IsCancellationRequested)
            to.Close();
    }

    /// <summary>Stops forwarding on every current connection, leaving the sockets open.</summary>
    public void FreezeAll()
    {
        lock (_links)
        {
            foreach (var link in _links)
                link.Frozen.Cancel();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_links)
        {
            foreach (var (c, s, f) in _links)
            {
                c.Dispose();
                s.Dispose();
                f.Dispose();
            }

            _links.Clear();
        }

        await _accept;
    }
}
