using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Our client against a node-opcua server: each policy × Sign / SignAndEncrypt, user name authentication.</summary>
public sealed class NodeSecureServerTests(NodeSecureServerFixture peer) : IClassFixture<NodeSecureServerFixture>
{
    public static TheoryData<string, MessageSecurityMode> Matrix()
    {
        var data = new TheoryData<string, MessageSecurityMode>();
        foreach (var policy in new[] { "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss" })
        {
            data.Add(policy, MessageSecurityMode.Sign);
            data.Add(policy, MessageSecurityMode.SignAndEncrypt);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Connects_reads_and_subscribes_with_user_name(string policyName, MessageSecurityMode mode)
    {
        var policy = UaSecurityPolicy.Find(policyName)!;
        await using var client = await UaClient.ConnectAsync(SecureTestKit.ClientOptions(peer.EndpointUrl, peer.ClientStore, peer.ClientCertificate, policy, mode));
        Assert.Equal(mode, client.Endpoint!.SecurityMode);
        Assert.Equal(policy.Uri, client.Endpoint.SecurityPolicyUri);
        var node = await client.ResolveNodeIdAsync("nsu=http://edgecollector.test/plant;s=F1.GasTotal");
        var value = await client.ReadValueAsync(node);
        Assert.True(value.Status.IsGood);
        Assert.True((double)value.Value.Value! >= 1000.0);

        var values = new List<double>();
        var got = new TaskCompletionSource();
        await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = node, SamplingInterval = TimeSpan.FromMilliseconds(100) }],
            change =>
            {
                lock (values)
                {
                    values.Add((double)change.Value.Value.Value!);
                    if (values.Count >= 3)
                        got.TrySetResult();
                }
            });
        await got.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(values[2] > values[0]);
    }

    [Theory]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Aes256_Sha256_RsaPss", MessageSecurityMode.Sign)]
    public async Task Tokens_are_renewed_with_node_opcua_and_messages_keep_flowing(string policyName, MessageSecurityMode mode)
    {
        var policy = UaSecurityPolicy.Find(policyName)!;
        var endpoints = await UaClient.GetEndpointsAsync(peer.EndpointUrl);
        var serverCertificate = UaCertificates.Load(endpoints.First(e => e.SecurityPolicyUri == policy.Uri && e.SecurityMode == mode).ServerCertificate!);
        await using var channel = await UaClientChannel.ConnectAsync(peer.EndpointUrl, new UaClientChannelOptions
        {
            Security = () => new UaRsaChannelSecurity(policy, mode, peer.ClientCertificate, serverCertificate),
            RequestedLifetime = TimeSpan.FromSeconds(2),
        });
        var first = channel.TokenId;
        var renewed = 0;
        channel.TokenRenewed += _ => Interlocked.Increment(ref renewed);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref renewed) < 2 && DateTime.UtcNow < deadline)
        {
            await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest { EndpointUrl = peer.EndpointUrl });
            await Task.Delay(100);
        }

        Assert.True(renewed >= 2, $"renewed {renewed} times, lifetime {channel.TokenLifetime}");
        Assert.NotEqual(first, channel.TokenId);
        await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest { EndpointUrl = peer.EndpointUrl });
        Assert.Equal(UaChannelState.Open, channel.State);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_BadUserAccessDenied()
    {
        var options = SecureTestKit.ClientOptions(peer.EndpointUrl, peer.ClientStore, peer.ClientCertificate, UaSecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt, "wrong-password");
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(options));
        Assert.True(ex.Status == StatusCodes.BadUserAccessDenied || ex.Status == StatusCodes.BadIdentityTokenRejected, ex.ToString());
        Assert.DoesNotContain("wrong-password", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anonymous_is_refused_when_the_server_wants_a_user()
    {
        var options = SecureTestKit.ClientOptions(peer.EndpointUrl, peer.ClientStore, peer.ClientCertificate, UaSecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.Sign, password: null);
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(options));
        Assert.Equal(StatusCodes.BadIdentityTokenRejected, ex.Status);
    }
}
