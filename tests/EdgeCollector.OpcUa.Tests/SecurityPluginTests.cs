using System.Buffers.Binary;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.OpcUa.Tests.Infrastructure;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>
/// The secure channel applies whatever <see cref="IUaChannelSecurity"/> it is given, on both sides: a toy
/// "checksum" policy (Sign mode, 4-byte FNV-1a over the whole chunk) stands in for part 2's real policies.
/// </summary>
public sealed class SecurityPluginTests
{
    private sealed class ChecksumSecurity : IUaChannelSecurity
    {
        public string PolicyUri => "urn:edgecollector:test:checksum";

        public MessageSecurityMode Mode => MessageSecurityMode.Sign;

        public byte[]? LocalCertificate => null;

        public byte[]? RemoteCertificateThumbprint => null;

        public int MaxOverhead => 4;

        public byte[] CreateNonce() => new byte[32];

        public void OnTokenIssued(uint tokenId, byte[]? clientNonce, byte[]? serverNonce, bool isClient)
        {
        }

        public int MaxBodySize(int chunkSize, int headerSize, bool asymmetric) => chunkSize - headerSize - 4;

        public int ProtectedLength(int securityHeaderEnd, int plainLength, bool asymmetric) => plainLength + 4;

        public void Protect(byte[] chunk, int securityHeaderEnd, int plainLength, bool asymmetric, uint tokenId) =>
            BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(plainLength), Fnv(chunk.AsSpan(0, plainLength)));

        public Range Unprotect(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId)
        {
            var end = chunk.Length - 4;
            if (end < securityHeaderEnd || BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(end)) != Fnv(chunk.AsSpan(0, end)))
                throw new UaException(StatusCodes.BadSecurityChecksFailed, "Checksum mismatch");
            return securityHeaderEnd..end;
        }

        private static uint Fnv(ReadOnlySpan<byte> data)
        {
            var hash = 2166136261u;
            foreach (var b in data)
                hash = (hash ^ b) * 16777619u;
            return hash;
        }
    }

    private static FurnacePlcSimulator Sim() => new(new FurnacePlcOptions
    {
        TickInterval = null,
        Server = new UaServerOptions { Security = static () => new ChecksumSecurity() },
    });

    [Fact]
    public async Task Client_and_server_apply_a_plugged_in_policy_end_to_end()
    {
        await using var sim = Sim();
        await sim.StartAsync();
        var endpoints = await UaClient.GetEndpointsAsync(sim.EndpointUrl, new UaClientChannelOptions { Security = static () => new ChecksumSecurity() });
        Assert.Equal("urn:edgecollector:test:checksum", Assert.Single(endpoints).SecurityPolicyUri);
        await using var client = await UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = sim.EndpointUrl,
            Channel = new UaClientChannelOptions { Security = static () => new ChecksumSecurity(), Limits = new UaChannelLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 } },
        });
        Assert.Equal(MessageSecurityMode.Sign, client.Endpoint!.SecurityMode);
        var big = sim.AddressSpace.AddVariable(new NodeId(3, "Big"), new QualifiedName(3, "Big"), WellKnownNodes.ObjectsFolder,
            new Variant(new string('z', 50_000)), WellKnownNodes.StringType);
        Assert.Equal(50_000, ((string)(await client.ReadValueAsync(big.NodeId)).Value.Value!).Length);
    }

    [Fact]
    public async Task A_client_with_another_policy_is_refused()
    {
        await using var sim = Sim();
        await sim.StartAsync();
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClientChannel.ConnectAsync(sim.EndpointUrl));
        Assert.Equal(StatusCodes.BadSecurityPolicyRejected, ex.Status);
    }

    [Fact]
    public async Task A_tampered_chunk_breaks_the_channel_with_BadSecurityChecksFailed()
    {
        await using var sim = Sim();
        await sim.StartAsync();
        await using var proxy = new TcpProxy(sim.Server.Port);
        await using var channel = await UaClientChannel.ConnectAsync($"opc.tcp://127.0.0.1:{proxy.Port}", new UaClientChannelOptions { Security = static () => new ChecksumSecurity() });
        await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest());
        proxy.CorruptNextToServer = true;
        await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest()));
        await channel.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        var reason = Assert.IsType<UaException>(channel.BreakReason);
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, reason.Status);
    }
}
