using System.Net;
using System.Net.Sockets;

namespace EdgeCollector.Sim.Scales;

/// <summary>How the simulated converter drops a connection.</summary>
public enum ScaleDropMode
{
    /// <summary>Close with FIN: the reader sees end of stream.</summary>
    Graceful = 0,

    /// <summary>Abort with RST (linger 0), like a converter that reboots: the reader sees a reset.</summary>
    Reset = 1,
}

/// <summary>
/// A serial-to-Ethernet converter in raw TCP-server mode with a simulated indicator behind it,
/// on 127.0.0.1 and a free port. It can drop the connection in the middle of a scenario; the
/// scenario then waits for the collector to reconnect and goes on where it stopped.
/// </summary>
public sealed class ScaleTcpConverter : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private int _connections, _drops;

    /// <summary>Starts listening on 127.0.0.1, port chosen by the OS.</summary>
    public ScaleTcpConverter()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as a source's <c>"Tcp"</c> setting.</summary>
    public string HostPort => $"127.0.0.1:{Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections dropped on purpose so far.</summary>
    public int Drops => Volatile.Read(ref _drops);

    /// <summary>
    /// Accepts a connection and streams <paramref name="samples"/>; before each index in
    /// <paramref name="dropBefore"/> it drops the connection and waits (up to <paramref name="acceptTimeout"/>)
    /// for the next one.
    /// </summary>
    public async Task RunAsync(ScaleSimulator simulator, IReadOnlyList<ScaleSample> samples, IReadOnlyCollection<int> dropBefore, ScaleDropMode mode, TimeSpan acceptTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(dropBefore);
        var cuts = dropBefore.Where(i => i > 0 && i < samples.Count).Order().Append(samples.Count).ToList();
        int from = 0;
        foreach (int to in cuts)
        {
            using var client = await AcceptAsync(acceptTimeout, cancellationToken);
            await simulator.StreamAsync(client.GetStream(), samples, from, to, cancellationToken);
            if (to < samples.Count)
            {
                if (mode == ScaleDropMode.Reset)
                {
                    // Linger 0 turns the close into an RST, as when a converter reboots mid-load.
                    client.Client.LingerState = new LingerOption(true, 0);
                }

                Interlocked.Increment(ref _drops);
            }

            client.Close();
            from = to;
        }
    }

    private async Task<TcpClient> AcceptAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var client = await _listener.AcceptTcpClientAsync(cts.Token);
        client.NoDelay = true; // converters forward each serial frame as it comes
        Interlocked.Increment(ref _connections);
        return client;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }
}
