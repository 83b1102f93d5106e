using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Tests.Infrastructure;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>Client recovery: lost connections, server restarts, silent subscriptions.</summary>
public sealed class RecoveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Watchdog_notices_a_silent_subscription_and_recovers_through_a_new_connection(bool subscriptionExpires)
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await sim.StartAsync();
        await using var proxy = new TcpProxy(sim.Server.Port);
        await using var client = await UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = $"opc.tcp://127.0.0.1:{proxy.Port}",
            ReconnectDelay = TimeSpan.FromMilliseconds(200),
        });
        var states = new ConcurrentQueue<UaConnectionState>();
        client.ConnectionChanged += (_, s) => states.Enqueue(s);
        var changes = new ConcurrentQueue<UaDataChange>();
        // Expiring: lifetime 9 × 100 ms = 0.9 s on the server (no MinLifetime), shorter than the 2.45 s the watchdog
        // waits, while the session (10 s) survives. Else the default: at least a minute.
        var options = new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100), MaxKeepAliveCount = 3 };
        var subscription = await client.SubscribeAsync(
            subscriptionExpires ? options with { LifetimeCount = 9, MinLifetime = TimeSpan.Zero } : options,
            [new UaMonitoredItemRequest { NodeId = sim.TagId("F1", "HeelMass") }],
            changes.Enqueue);
        await Eventually.TrueAsync(() => changes.Count == 1, Wait);

        // The link goes silent without closing: only the keep-alive watchdog can notice. The client restores the
        // session on a new connection; a subscription the server dropped meanwhile must be noticed and recreated
        // (it once restored the session alone and looped on the watchdog, delivering nothing).
        proxy.FreezeAll();
        if (subscriptionExpires)
            await Eventually.TrueAsync(() => sim.Server.SubscriptionCount == 0, Wait, "the server kept the subscription");
        await Eventually.TrueAsync(() => states.Contains(UaConnectionState.Reconnecting), Wait, "watchdog did not fire");
        await Eventually.TrueAsync(() => states.Contains(UaConnectionState.SessionRestored), Wait, "session not restored");
        Assert.Equal(2, proxy.Connections);
        sim.AddressSpace.TryGetNode(sim.TagId("F1", "HeelMass"), out var node);
        ((EdgeCollector.OpcUa.Server.UaVariableNode)node!).SetValue(new Variant(777.0));
        await Eventually.TrueAsync(() => changes.Any(c => (double)c.Value.Value.Value! == 777.0), Wait, "no data after the session was restored");
        Assert.True(changes.Single(c => (double)c.Value.Value.Value! == 777.0).AfterGap);
        Assert.True(subscription.GapCount >= 1);
        Assert.Equal(subscriptionExpires ? 1 : 0, client.RecreatedSubscriptionCount);
        Assert.Equal(1, sim.Server.SubscriptionCount);
        Assert.Equal(1, states.Count(s => s == UaConnectionState.SessionRestored));
    }

    [Fact]
    public async Task Subscriptions_the_server_dropped_on_a_live_session_are_recreated()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await sim.StartAsync();
        await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = sim.EndpointUrl, ReconnectDelay = TimeSpan.FromMilliseconds(200) });
        var changes = new ConcurrentQueue<UaDataChange>();
        var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = sim.TagId("F1", "HeelMass") }], changes.Enqueue);
        await Eventually.TrueAsync(() => changes.Count == 1, Wait);

        // The connection stays up, the server answers Publish with Bad_NoSubscription.
        sim.Server.DeleteSubscriptionsKeepingSessions();
        await Eventually.TrueAsync(() => client.RecreatedSubscriptionCount == 1, Wait, "the lost subscription was not recreated");
        sim.AddressSpace.TryGetNode(sim.TagId("F1", "HeelMass"), out var node);
        ((EdgeCollector.OpcUa.Server.UaVariableNode)node!).SetValue(new Variant(321.0));
        await Eventually.TrueAsync(() => changes.Any(c => (double)c.Value.Value.Value! == 321.0), Wait, "no data after the subscription was recreated");
        Assert.Equal(1, sim.Server.SubscriptionCount);
        Assert.True(subscription.GapCount >= 1);
    }

    [Theory]
    [InlineData(1000, 10, 60u)]       // 1 s: the configured 60 intervals already cover a minute
    [InlineData(17, 10, 3530u)]       // a fast interval: 60 s / 17 ms
    [InlineData(100, 30, 600u)]       // 60 s / 100 ms above 3 × keep-alive (90)
    [InlineData(5000, 30, 90u)]       // 3 × keep-alive
    public void The_requested_lifetime_covers_a_minute_and_three_keep_alives(int intervalMs, uint keepAlive, uint expected)
    {
        Assert.Equal(expected, new UaSubscriptionOptions().LifetimeCountFor(TimeSpan.FromMilliseconds(intervalMs), keepAlive));
    }

    [Fact]
    public async Task Server_restart_recreates_session_and_subscription_and_flags_the_gap()
    {
        var options = new FurnacePlcOptions { TickInterval = null };
        var sim = new FurnacePlcSimulator(options);
        await sim.StartAsync();
        var port = sim.Server.Port;
        var states = new ConcurrentQueue<UaConnectionState>();
        var changes = new ConcurrentQueue<UaDataChange>();
        UaClient? client = null;
        try
        {
            client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = sim.EndpointUrl, ReconnectDelay = TimeSpan.FromMilliseconds(200) });
            client.ConnectionChanged += (_, s) => states.Enqueue(s);
            var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
                [new UaMonitoredItemRequest { NodeId = sim.TagId("F2", "HeatNo") }], changes.Enqueue);
            await Eventually.TrueAsync(() => changes.Count == 1, Wait);
            var oldSession = client.SessionId;

            await sim.DisposeAsync();
            await Eventually.TrueAsync(() => states.Contains(UaConnectionState.Reconnecting), Wait);
            // After the "firmware update" the PLC namespace moves from index 3 to 4; the client must follow the URI.
            sim = new FurnacePlcSimulator(options with
            {
                Server = options.Server with { Port = port },
                NamespacesBeforePlc = [FurnacePlcSimulator.DiagnosticsNamespace, "urn:vendor:extra"],
            });
            Assert.Equal(4, sim.PlcNamespaceIndex);
            await sim.StartAsync();
            sim.SetState("F2", FurnaceState.Charging);

            await Eventually.TrueAsync(() => states.Contains(UaConnectionState.SessionRecreated), Wait);
            await Eventually.TrueAsync(() => changes.Any(c => (uint)c.Value.Value.Value! == 1u), Wait);
            Assert.NotEqual(oldSession, client.SessionId);
            Assert.True(changes.Skip(1).First().AfterGap);
            Assert.True(subscription.GapCount >= 1);
            Assert.Equal(1, sim.Server.SubscriptionCount);
        }
        finally
        {
            if (client is not null)
                await client.DisposeAsync();
            await sim.DisposeAsync();
        }
    }

    [Fact]
    public async Task Lost_session_on_a_live_server_is_recreated_and_the_subscription_transferred()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await sim.StartAsync();
        await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = sim.EndpointUrl, ReconnectDelay = TimeSpan.FromMilliseconds(200) });
        var states = new ConcurrentQueue<UaConnectionState>();
        client.ConnectionChanged += (_, s) => states.Enqueue(s);
        var changes = new ConcurrentQueue<UaDataChange>();
        var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = sim.TagId("F1", "State") }], changes.Enqueue);
        await Eventually.TrueAsync(() => changes.Count == 1, Wait);
        var subscriptionId = subscription.SubscriptionId;

        sim.Server.CloseSessionsKeepingSubscriptions();
        sim.Server.DropConnections();
        await Eventually.TrueAsync(() => states.Contains(UaConnectionState.SessionRecreated), Wait);

        // Same server-side subscription (transferred, not recreated); SendInitialValues re-delivers the value, flagged.
        Assert.Equal(subscriptionId, subscription.SubscriptionId);
        Assert.Equal(1, sim.Server.SubscriptionCount);
        await Eventually.TrueAsync(() => changes.Count >= 2, Wait);
        Assert.True(changes.Skip(1).First().AfterGap);
        sim.SetState("F1", FurnaceState.Charging);
        await Eventually.TrueAsync(() => changes.Any(c => (int)c.Value.Value.Value! == 1), Wait);
    }

    [Fact]
    public async Task Idle_session_is_kept_alive_and_a_session_dropped_by_the_server_is_recreated()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions
        {
            TickInterval = null,
            Server = new EdgeCollector.OpcUa.Server.UaServerOptions { MinSessionTimeout = TimeSpan.FromSeconds(1) },
        });
        await sim.StartAsync();
        await using var client = await UaClient.ConnectAsync(new UaClientOptions
        {
            EndpointUrl = sim.EndpointUrl, SessionTimeout = TimeSpan.FromSeconds(1.5), ReconnectDelay = TimeSpan.FromMilliseconds(100),
        });
        var states = new ConcurrentQueue<UaConnectionState>();
        client.ConnectionChanged += (_, s) => states.Enqueue(s);
        var session = client.SessionId;

        // Idle for three session timeouts: the keep-alive reads keep the session.
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        Assert.True((await client.ReadValueAsync(sim.TagId("F1", "State"))).Status.IsGood);
        Assert.Equal(session, client.SessionId);
        Assert.Empty(states);

        // The server forgets the session while the connection stays up: the next call fails, recovery follows.
        sim.Server.CloseSessionsKeepingSubscriptions();
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => client.ReadValueAsync(sim.TagId("F1", "State")));
        Assert.Equal(StatusCodes.BadSessionIdInvalid, ex.Status);
        await Eventually.TrueAsync(() => states.Contains(UaConnectionState.SessionRecreated), Wait);
        Assert.NotEqual(session, client.SessionId);
        Assert.True((await client.ReadValueAsync(sim.TagId("F1", "State"))).Status.IsGood);
    }

    [Fact]
    public async Task Subscription_is_transferred_to_a_new_session_on_the_same_server()
    {
        await using var sim = new FurnacePlcSimulator(new FurnacePlcOptions { TickInterval = null });
        await sim.StartAsync();
        await using var first = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = sim.EndpointUrl, AutoReconnect = false });
        var subscription = await first.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = sim.TagId("F1", "State") }], _ => { });
        await using var second = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = sim.EndpointUrl });
        var response = await second.CallAsync<EdgeCollector.OpcUa.Messages.TransferSubscriptionsResponse>(
            new EdgeCollector.OpcUa.Messages.TransferSubscriptionsRequest { SubscriptionIds = [subscription.SubscriptionId, 9999], SendInitialValues = true });
        Assert.Equal(StatusCodes.Good, response.Results![0].StatusCode);
        Assert.Equal(StatusCodes.BadSubscriptionIdInvalid, response.Results[1].StatusCode);
    }
}
