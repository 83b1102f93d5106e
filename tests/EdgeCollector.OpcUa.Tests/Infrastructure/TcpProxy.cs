using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.OpcUa.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 that can freeze its current connections (stop forwarding without closing them),
/// like a half-open link, or cut them. New connections after a freeze forward normally. With
/// <c>chunks</c> it forwards whole UA TCP chunks and lets a test rewrite, drop or replay them.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server, CancellationTokenSource Frozen)> _links = [];
    private readonly Task _accept;
    private readonly bool _chunks;

    /// <param name="chunks">Forward whole UA TCP chunks (8-byte header with the size at offset 4), through <see cref="ChunkTransform"/> when set.</param>
    public TcpProxy(int targetPort, bool chunks = false)
    {
        _targetPort = targetPort;
        _chunks = chunks;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>When set, the last byte of the next client-to-server read is flipped (then the flag clears).</summary>
    public bool CorruptNextToServer { get; set; }

    /// <summary>
    /// For a chunk proxy: gets each chunk and its direction (true = to the server) and returns the chunks to forward
    /// (none to drop, two to replay). Read per chunk, so a test may set it on a connection already open.
    /// </summary>
    public Func<byte[], bool, IEnumerable<byte[]>>? ChunkTransform { get; set; }

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
        if (_chunks)
        {
            await PumpChunksAsync(from, to, toServer);
            return;
        }

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

    private async Task PumpChunksAsync(Stream from, Stream to, bool toServer)
    {
        var header = new byte[8];
        try
        {
            while (true)
            {
                await from.ReadExactlyAsync(header, _stop.Token);
                var size = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var chunk = new byte[size];
                header.CopyTo(chunk, 0);
                await from.ReadExactlyAsync(chunk.AsMemory(8), _stop.Token);
                foreach (var c in ChunkTransform?.Invoke(chunk, toServer) ?? [chunk])
                    await to.WriteAsync(c, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }

        to.Close();
    }

    /// <summary>Closes every current connection; new ones are still accepted.</summary>
    public void DropAll()
    {
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
        DropAll();
        await _accept;
    }
}
