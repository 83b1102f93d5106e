using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>
/// A UA TCP proxy on 127.0.0.1 that forwards whole chunks (8-byte header with the size at offset 4) and lets a test
/// rewrite them: <see cref="Transform"/> gets each chunk and its direction and returns the chunks to forward
/// (none to drop, two to replay).
/// </summary>
public sealed class ChunkProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _accept;

    public ChunkProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Rewrites chunks: (chunk, toServer) → chunks to forward.</summary>
    public Func<byte[], bool, IEnumerable<byte[]>>? Transform { get; set; }

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
            await server.ConnectAsync(IPAddress.Loopback, _target);
            lock (_sockets)
                _sockets.AddRange([client, server]);
            _ = PumpAsync(client.GetStream(), server.GetStream(), toServer: true);
            _ = PumpAsync(server.GetStream(), client.GetStream(), toServer: false);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool toServer)
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
                var outgoing = Transform?.Invoke(chunk, toServer) ?? [chunk];
                foreach (var c in outgoing)
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
        lock (_sockets)
        {
            foreach (var s in _sockets)
                s.Dispose();
            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var s in _sockets)
                s.Dispose();
        }

        await _accept;
    }
}
