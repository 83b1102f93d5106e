using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Our furnace PLC simulator with every policy × mode, user name auth, and a client store that trusts it.</summary>
public sealed class SimSecureServerFixture : IAsyncLifetime
{
    public const string NodeClientUri = "urn:edgecollector:test:node-secure-client";

    public string Folder { get; } = SecureTestKit.TempFolder("sim");

    public FurnacePlcSimulator Sim { get; private set; } = null!;

    public UaCertificateStore ServerStore { get; private set; } = null!;

    public UaCertificateStore ClientStore { get; private set; } = null!;

    public X509Certificate2 ClientCertificate { get; private set; } = null!;

    public (string Certificate, string Key) NodeClientPem { get; private set; }

    public List<string> Log { get; } = [];

    public async Task InitializeAsync()
    {
        void Add(string line)
        {
            lock (Log)
                Log.Add(line);
        }

        ServerStore = new UaCertificateStore(Path.Combine(Folder, "server-pki"), log: Add);
        var options = FurnacePlcSecurity.Secured(new FurnacePlcOptions().Server, ServerStore, (user, password) => user == "collector" && password == SecureTestKit.Password);
        Sim = new FurnacePlcSimulator(new FurnacePlcOptions { Server = options, TickInterval = TimeSpan.FromMilliseconds(50) });
        Sim.SetState("F1", FurnaceState.Melting);
        await Sim.StartAsync();

        ClientStore = new UaCertificateStore(Path.Combine(Folder, "client-pki"), log: Add);
        ClientCertificate = ClientStore.LoadOrCreateOwn("urn:edgecollector:test:client", "EdgeCollector test client");
        File.WriteAllBytes(Path.Combine(ClientStore.TrustedFolder, "sim.der"), options.Certificate!.RawData);
        File.WriteAllBytes(Path.Combine(ServerStore.TrustedFolder, "client.der"), ClientCertificate.RawData);

        using var nodeClient = UaCertificates.Create(NodeClientUri, "node-opcua secure test client", ["127.0.0.1", "localhost"], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        NodeClientPem = SecureTestKit.WritePem(nodeClient, Folder, "node-client");
        File.WriteAllBytes(Path.Combine(ServerStore.TrustedFolder, "node-client.der"), nodeClient.RawData);
    }

    public async Task DisposeAsync()
    {
        await Sim.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
