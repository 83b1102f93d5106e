using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Tampered and replayed chunks between our client and our simulator, and token renewal on a secured channel.</summary>
public sealed class TamperTests(SimSecureServerFixture fx) : IClassFixture<SimSecureServerFixture>
{
    private async Task<UaClientChannel> OpenAsync(string url, UaSecurityPolicy policy, MessageSecurityMode mode, TimeSpan? lifetime = null)
    {
        var endpoints = await UaClient.GetEndpointsAsync(fx.Sim.EndpointUrl);
        var endpoint = endpoints.First(e => e.SecurityPolicyUri == policy.Uri && e.SecurityMode == mode);
        var serverCertificate = UaCertificates.Load(endpoint.ServerCertificate!);
        return await UaClientChannel.ConnectAsync(url, new UaClientChannelOptions
        {
            Security = () => new UaRsaChannelSecurity(policy, mode, fx.ClientCertificate, serverCertificate),
            RequestedLifetime = lifetime ?? TimeSpan.FromHours(1),
        });
    }

    private static bool IsMessage(byte[] chunk) => System.Text.Encoding.ASCII.GetString(chunk, 0, 3) == "MSG";

    private static async Task<UaException> BrokenAsync(UaClientChannel channel)
    {
        await channel.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(UaChannelState.Broken, channel.State);
        return Assert.IsType<UaException>(channel.BreakReason, exactMatch: false);
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign)]
    [InlineData(MessageSecurityMode.SignAndEncrypt)]
    public async Task A_flipped_bit_in_a_chunk_to_the_server_is_rejected_and_the_channel_closed(MessageSecurityMode mode)
    {
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        await using var channel = await OpenAsync($"opc.tcp://127.0.0.1:{proxy.Port}", UaSecurityPolicy.Basic256Sha256, mode);
        await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest());
        var armed = 1;
        proxy.ChunkTransform = (chunk, toServer) =>
        {
            if (toServer && IsMessage(chunk) && Interlocked.Exchange(ref armed, 0) == 1)
                chunk[chunk.Length / 2] ^= 0x04;
            return [chunk];
        };
        await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest()));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, (await BrokenAsync(channel)).Status);
    }

    [Theory]
    [InlineData("Aes128_Sha256_RsaOaep", MessageSecurityMode.Sign)]
    [InlineData("Aes256_Sha256_RsaPss", MessageSecurityMode.SignAndEncrypt)]
    public async Task A_flipped_bit_in_a_chunk_to_the_client_is_rejected_and_the_channel_closed(string policyName, MessageSecurityMode mode)
    {
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        await using var channel = await OpenAsync($"opc.tcp://127.0.0.1:{proxy.Port}", UaSecurityPolicy.Find(policyName)!, mode);
        var armed = 1;
        proxy.ChunkTransform = (chunk, toServer) =>
        {
            if (!toServer && IsMessage(chunk) && Interlocked.Exchange(ref armed, 0) == 1)
                chunk[^40] ^= 0x80;
            return [chunk];
        };
        await Assert.ThrowsAnyAsync<UaException>(() => channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest()));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, (await BrokenAsync(channel)).Status);
    }

    [Theory]
    [InlineData(MessageSecurityMode.Sign, true)]
    [InlineData(MessageSecurityMode.SignAndEncrypt, false)]
    public async Task Sign_leaves_the_body_readable_and_SignAndEncrypt_hides_it(MessageSecurityMode mode, bool visible)
    {
        var marker = "MARKER-" + Guid.NewGuid().ToString("N");
        var id = new NodeId(fx.Sim.PlcNamespaceIndex, "Marker-" + marker);
        fx.Sim.AddressSpace.AddVariable(id, new QualifiedName(fx.Sim.PlcNamespaceIndex, "Marker"), WellKnownNodes.ObjectsFolder, new Variant(marker), WellKnownNodes.StringType);
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        var seen = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        proxy.ChunkTransform = (chunk, toServer) =>
        {
            if (!toServer)
                seen.Add(chunk.ToArray());
            return [chunk];
        };
        var options = SecureTestKit.ClientOptions($"opc.tcp://127.0.0.1:{proxy.Port}", fx.ClientStore, fx.ClientCertificate, UaSecurityPolicy.Aes128Sha256RsaOaep, mode);
        await using var client = await UaClient.ConnectAsync(options);
        Assert.Equal(marker, (string)(await client.ReadValueAsync(id)).Value.Value!);
        var utf8 = System.Text.Encoding.UTF8.GetBytes(marker);
        Assert.Equal(visible, seen.Any(c => c.AsSpan().IndexOf(utf8) >= 0));
    }

    [Fact]
    public async Task A_tampered_OpenSecureChannel_is_rejected()
    {
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        var armed = 1;
        proxy.ChunkTransform = (chunk, toServer) =>
        {
            if (toServer && System.Text.Encoding.ASCII.GetString(chunk, 0, 3) == "OPN" && Interlocked.Exchange(ref armed, 0) == 1)
                chunk[^10] ^= 0x01;
            return [chunk];
        };
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => OpenAsync($"opc.tcp://127.0.0.1:{proxy.Port}", UaSecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.SignAndEncrypt));
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, ex.Status);
    }

    [Fact]
    public async Task A_replayed_chunk_is_rejected_with_BadSequenceNumberInvalid()
    {
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        await using var channel = await OpenAsync($"opc.tcp://127.0.0.1:{proxy.Port}", UaSecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt);
        var armed = 1;
        proxy.ChunkTransform = (chunk, toServer) =>
            toServer && IsMessage(chunk) && Interlocked.Exchange(ref armed, 0) == 1 ? [chunk, chunk.ToArray()] : [chunk];
        try
        {
            // The first copy is answered; the replayed copy breaks the channel.
            await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest());
        }
        catch (UaException)
        {
            // The break may overtake the answer.
        }

        Assert.Equal(StatusCodes.BadSequenceNumberInvalid, (await BrokenAsync(channel)).Status);
    }

    [Fact]
    public async Task Tokens_are_renewed_and_the_channel_keeps_working_with_the_new_keys()
    {
        await using var channel = await OpenAsync(fx.Sim.EndpointUrl, UaSecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, TimeSpan.FromSeconds(2));
        var first = channel.TokenId;
        var renewed = 0;
        channel.TokenRenewed += _ => Interlocked.Increment(ref renewed);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Volatile.Read(ref renewed) < 2 && DateTime.UtcNow < deadline)
        {
            await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest());
            await Task.Delay(100);
        }

        Assert.True(renewed >= 2, $"renewed {renewed} times");
        Assert.NotEqual(first, channel.TokenId);
        Assert.Equal(UaChannelState.Open, channel.State);
        await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest());
    }
}
