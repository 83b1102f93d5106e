using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>A node-opcua server killed and restarted under a live subscription.</summary>
[Trait("Category", "Integration")]
public sealed class NodeOpcUaRecoveryTests
{
    [Fact]
    public async Task Client_delivers_data_again_within_5_s_of_a_node_opcua_restart_and_flags_the_gap()
    {
        var server = new NodeOpcUaServerFixture();
        await server.InitializeAsync();
        try
        {
            var states = new ConcurrentQueue<UaConnectionState>();
            var changes = new ConcurrentQueue<UaDataChange>();
            await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = server.EndpointUrl, ReconnectDelay = TimeSpan.FromMilliseconds(250) });
            client.ConnectionChanged += (_, s) => states.Enqueue(s);
            var counter = await client.ResolveNodeIdAsync($"nsu={NodeOpcUaServerFixture.PlantNamespace};i=1001");
            var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
                [new UaMonitoredItemRequest { NodeId = counter, SamplingInterval = TimeSpan.FromMilliseconds(100) }], changes.Enqueue);
            await Eventually.TrueAsync(() => changes.Count >= 3, TimeSpan.FromSeconds(15));

            server.Peer.Kill();
            await Eventually.TrueAsync(() => states.Contains(UaConnectionState.Reconnecting), TimeSpan.FromSeconds(15));
            var before = changes.Count;
            await server.RestartAsync(TimeSpan.FromMilliseconds(500));

            // From the moment the restarted server is listening, data must flow again within 5 s.
            await Eventually.TrueAsync(() => changes.Count > before, TimeSpan.FromSeconds(5), "no data within 5 s of the restart");
            var first = changes.Skip(before).First();
            Assert.True(first.AfterGap);
            Assert.True((uint)first.Value.Value.Value! < 100, "the counter restarted with the server");
            Assert.True(subscription.GapCount >= 1);
            Assert.Contains(UaConnectionState.SessionRecreated, states);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
