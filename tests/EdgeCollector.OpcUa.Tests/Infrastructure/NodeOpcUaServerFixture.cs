namespace EdgeCollector.OpcUa.Tests.Infrastructure;

/// <summary>One node-opcua server (peers/node-server.js) shared by the tests of a class.</summary>
public sealed class NodeOpcUaServerFixture : IAsyncLifetime
{
    private NodePeer? _peer;

    /// <summary>The endpoint URL of the running server.</summary>
    public string EndpointUrl { get; private set; } = "";

    /// <summary>The port.</summary>
    public int Port { get; private set; }

    /// <summary>The peer process.</summary>
    public NodePeer Peer => _peer ?? throw new InvalidOperationException("not started");

    /// <summary>Namespace URI of the test variables.</summary>
    public const string PlantNamespace = "http://edgecollector.test/plant";

    public async Task InitializeAsync()
    {
        Port = NodePeer.FreePort();
        var (peer, ready) = await NodePeer.StartAsync("node-server.js", [Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(90));
        _peer = peer;
        EndpointUrl = ready.Split(' ')[1];
    }

    /// <summary>Kills the server and starts it again on the same port (for recovery tests).</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        _peer?.Dispose();
        await Task.Delay(downtime);
        var (peer, _) = await NodePeer.StartAsync("node-server.js", [Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(90));
        _peer = peer;
    }

    public Task DisposeAsync()
    {
        _peer?.Dispose();
        return Task.CompletedTask;
    }
}
