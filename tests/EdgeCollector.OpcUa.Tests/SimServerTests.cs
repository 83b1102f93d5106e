using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.OpcUa.Tests.Infrastructure;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests;

/// <summary>Our client against our server (the furnace PLC simulator) over 127.0.0.1.</summary>
public sealed class SimServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private FurnacePlcSimulator _sim = null!;

    public async Task InitializeAsync()
    {
        _sim = new FurnacePlcSimulator(new FurnacePlcOptions
        {
            TickInterval = null,
            Server = new UaServerOptions { ApplicationUri = "urn:test:plc", ValidateUser = (u, p) => u == "collector" && p == "s3cret" },
        });
        await _sim.StartAsync();
    }

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private Task<UaClient> ConnectAsync(UaUserIdentity? user = null, UaClientChannelOptions? channel = null) =>
        UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = _sim.EndpointUrl, User = user, Channel = channel ?? new UaClientChannelOptions() });

    [Fact]
    public async Task Plc_namespace_is_at_index_3_and_resolved_by_uri()
    {
        await using var client = await ConnectAsync();
        Assert.Equal(4, client.NamespaceArray.Count);
        Assert.Equal(FurnacePlcSimulator.PlcNamespace, client.NamespaceArray[3]);
        var id = await client.ResolveNodeIdAsync($"nsu={FurnacePlcSimulator.PlcNamespace};s=\"DB_F1\".\"GasTotal\"");
        Assert.Equal(_sim.TagId("F1", "GasTotal"), id);
        Assert.Equal("ns=3;s=\"DB_F1\".\"GasTotal\"", id.ToString());
    }

    [Fact]
    public async Task Reads_all_furnace_tags_with_their_types()
    {
        _sim.SetState("F1", FurnaceState.Melting);
        _sim.Step(TimeSpan.FromMinutes(10));
        await using var client = await ConnectAsync();
        var tags = new[] { "State", "HeatNo", "GasTotal", "GasFlow", "BathTemp", "HeelMass" };
        var values = await client.ReadValuesAsync(tags.Select(t => _sim.TagId("F1", t)));
        Assert.All(values, v => Assert.True(v.Status.IsGood));
        Assert.All(values, v => Assert.NotNull(v.SourceTimestamp));
        Assert.Equal((int)FurnaceState.Melting, values[0].Value.Value);
        Assert.Equal(0u, values[1].Value.Value);
        Assert.Equal(150.0, (double)values[2].Value.Value!, 6);
        Assert.Equal(900.0, values[3].Value.Value);
        Assert.Equal(BuiltInType.Double, values[4].Value.Type);
        Assert.Equal(2000.0, values[5].Value.Value);
        var attrs = await client.ReadAsync(
        [
            new ReadValueId { NodeId = _sim.TagId("F1", "GasTotal"), AttributeId = Attributes.DataType },
            new ReadValueId { NodeId = _sim.TagId("F1", "GasTotal"), AttributeId = Attributes.BrowseName },
            new ReadValueId { NodeId = _sim.TagId("F1", "GasTotal"), AttributeId = Attributes.NodeClass },
            new ReadValueId { NodeId = _sim.TagId("F1", "GasTotal"), AttributeId = 99 },
            new ReadValueId { NodeId = new NodeId(3, "nope"), AttributeId = Attributes.Value },
        ]);
        Assert.Equal(WellKnownNodes.DoubleType, attrs[0].Value.Value);
        Assert.Equal(new QualifiedName(3, "GasTotal"), attrs[1].Value.Value);
        Assert.Equal((int)NodeClass.Variable, attrs[2].Value.Value);
        Assert.Equal(StatusCodes.BadAttributeIdInvalid, attrs[3].Status);
        Assert.Equal(StatusCodes.BadNodeIdUnknown, attrs[4].Status);
    }

    [Fact]
    public async Task Browses_down_to_the_data_block_with_continuation_points()
    {
        await using var client = await ConnectAsync();
        var objects = await client.BrowseAsync(WellKnownNodes.ObjectsFolder);
        Assert.Contains(objects, r => r.BrowseName.Name == "Server");
        var plc = Assert.Single(objects, r => r.BrowseName.Name == "PLC_1");
        var blocks = Assert.Single(await client.BrowseAsync(plc.NodeId.NodeId));
        var dbs = await client.BrowseAsync(blocks.NodeId.NodeId);
        Assert.Equal(["DB_F1", "DB_F2"], dbs.Select(d => d.BrowseName.Name ?? "").Order().ToArray());
        var tags = await client.BrowseAsync(new NodeId(3, "\"DB_F1\""), maxReferencesPerNode: 2);
        Assert.Equal(6, tags.Count);
        Assert.All(tags, t => Assert.Equal(NodeClass.Variable, t.NodeClass));
        Assert.All(tags, t => Assert.Equal(WellKnownNodes.BaseDataVariableType, t.TypeDefinition.NodeId));
        var inverse = await client.BrowseAsync(_sim.TagId("F1", "State"), BrowseDirection.Inverse);
        Assert.Equal(new NodeId(3, "\"DB_F1\""), Assert.Single(inverse).NodeId.NodeId);
    }

    [Fact]
    public async Task Translates_browse_paths()
    {
        await using var client = await ConnectAsync();
        QualifiedName Q(string n) => new(3, n);
        RelativePathElement E(string n) => new() { ReferenceTypeId = WellKnownNodes.HierarchicalReferences, IncludeSubtypes = true, TargetName = Q(n) };
        var results = await client.TranslateBrowsePathsAsync(
        [
            new BrowsePath { StartingNode = WellKnownNodes.ObjectsFolder, RelativePath = new RelativePath { Elements = [E("PLC_1"), E("DataBlocksGlobal"), E("DB_F2"), E("HeatNo")] } },
            new BrowsePath { StartingNode = WellKnownNodes.ObjectsFolder, RelativePath = new RelativePath { Elements = [E("PLC_1"), E("Nope")] } },
        ]);
        Assert.Equal(_sim.TagId("F2", "HeatNo"), Assert.Single(results[0].Targets!).TargetId.NodeId);
        Assert.Equal(StatusCodes.BadNoMatch, results[1].StatusCode);
    }

    [Fact]
    public async Task Writes_are_type_checked_and_seen_by_readers()
    {
        await using var client = await ConnectAsync();
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(_sim.TagId("F1", "HeelMass"), new Variant(1500.0)));
        Assert.Equal(StatusCodes.BadTypeMismatch, await client.WriteValueAsync(_sim.TagId("F1", "HeelMass"), new Variant(1500)));
        Assert.Equal(StatusCodes.BadNotWritable, await client.WriteValueAsync(_sim.TagId("F1", "GasTotal"), new Variant(1.0)));
        Assert.Equal(1500.0, (await client.ReadValueAsync(_sim.TagId("F1", "HeelMass"))).Value.Value);
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(_sim.TagId("F1", "State"), new Variant((int)FurnaceState.Tapping)));
        Assert.Equal(FurnaceState.Tapping, _sim.StateOf("F1"));
    }

    [Fact]
    public async Task Subscription_delivers_changes_with_deadband_and_keep_alives()
    {
        await using var client = await ConnectAsync();
        var changes = new ConcurrentQueue<UaDataChange>();
        var subscription = await client.SubscribeAsync(
            new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50), MaxKeepAliveCount = 2 },
            [
                new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "GasTotal") },
                new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "HeelMass"), Deadband = DeadbandType.Absolute, DeadbandValue = 100 },
                new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "BathTemp"), Deadband = DeadbandType.Percent, DeadbandValue = 10 },
                new UaMonitoredItemRequest { NodeId = new NodeId(3, "missing") },
            ],
            changes.Enqueue);
        var items = subscription.Items.OrderBy(i => i.ClientHandle).ToArray();
        Assert.All(items.Take(3), i => Assert.True(i.Status.IsGood, i.Status.ToString()));
        Assert.Equal(StatusCodes.BadNodeIdUnknown, items[3].Status);
        var keepAlives = 0;
        subscription.KeepAlive += (_, _) => Interlocked.Increment(ref keepAlives);

        // Initial values first.
        await Eventually.TrueAsync(() => changes.Count >= 3, Wait);
        _sim.SetState("F1", FurnaceState.Melting);
        int GasChanges() => changes.Count(c => c.NodeId == _sim.TagId("F1", "GasTotal"));
        _sim.Step(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => GasChanges() >= 2, Wait);
        _sim.Step(TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => GasChanges() >= 3, Wait);
        Assert.Equal([0.0, 15.0, 30.0], changes.Where(c => c.NodeId == _sim.TagId("F1", "GasTotal")).Select(c => Math.Round((double)c.Value.Value.Value!, 9)).ToArray());
        await Eventually.TrueAsync(() => Volatile.Read(ref keepAlives) >= 2, Wait);

        // HeelMass: 2000 -> 2050 (inside the deadband of 100) -> 2150 (outside).
        await client.WriteValueAsync(_sim.TagId("F1", "HeelMass"), new Variant(2050.0));
        await client.WriteValueAsync(_sim.TagId("F1", "HeelMass"), new Variant(2150.0));
        await Eventually.TrueAsync(() => changes.Any(c => c.NodeId == _sim.TagId("F1", "HeelMass") && (double)c.Value.Value.Value! == 2150.0), Wait);
        var heel = changes.Where(c => c.NodeId == _sim.TagId("F1", "HeelMass")).Select(c => (double)c.Value.Value.Value!).ToArray();
        Assert.Equal([2000.0, 2150.0], heel);

        // BathTemp range 0..1000, 10 % = 100 K: 25 -> ~232 (two steps towards 740 by half an hour each) passes.
        var bath = changes.Where(c => c.NodeId == _sim.TagId("F1", "BathTemp")).Select(c => (double)c.Value.Value.Value!).ToArray();
        Assert.All(bath.Zip(bath.Skip(1)), p => Assert.True(Math.Abs(p.Second - p.First) > 100, $"{p.First} -> {p.Second}"));
        Assert.All(changes, c => Assert.False(c.AfterGap));
        Assert.Equal(0, subscription.GapCount);
    }

    [Fact]
    public async Task Notifications_arrive_in_order_with_several_publish_requests_outstanding()
    {
        await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = _sim.EndpointUrl, PublishRequestCount = 4 });
        var values = new ConcurrentQueue<double>();
        // One notification per message and a deep queue: the server answers parked Publish requests back to back.
        await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50), MaxNotificationsPerPublish = 1 },
            [new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "GasTotal"), QueueSize = 1000 }],
            c =>
            {
                // A callback that takes a little time: concurrent delivery would now visibly reorder values.
                Thread.Sleep(Random.Shared.Next(0, 3));
                values.Enqueue((double)c.Value.Value.Value!);
            });
        await Eventually.TrueAsync(() => values.Count == 1, Wait);
        _sim.SetState("F1", FurnaceState.Melting);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (DateTime.UtcNow < until)
        {
            _sim.Step(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }

        var last = (double)(await client.ReadValueAsync(_sim.TagId("F1", "GasTotal"))).Value.Value!;
        await Eventually.TrueAsync(() => values.Contains(last), Wait);
        var seen = values.ToArray();
        Assert.True(seen.Length > 20, $"only {seen.Length} values");
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.Second > p.First), "out of order: " + string.Join(",", seen));
    }

    [Fact]
    public async Task Modify_and_delete_subscription()
    {
        await using var client = await ConnectAsync();
        var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(500) },
            [new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "State") }], _ => { });
        Assert.Equal(TimeSpan.FromMilliseconds(500), subscription.RevisedPublishingInterval);
        await client.ModifySubscriptionAsync(subscription, TimeSpan.FromMilliseconds(10), 7);
        Assert.Equal(TimeSpan.FromMilliseconds(50), subscription.RevisedPublishingInterval);
        Assert.Equal(7u, subscription.RevisedMaxKeepAliveCount);
        Assert.Equal(1, _sim.Server.SubscriptionCount);
        await client.DeleteSubscriptionAsync(subscription);
        Assert.Equal(0, _sim.Server.SubscriptionCount);
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => client.CallAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = [] }));
        Assert.Equal(StatusCodes.BadNothingToDo, ex.Status);
    }

    [Fact]
    public async Task Username_password_is_checked()
    {
        await using (var ok = await ConnectAsync(new UaUserIdentity("collector", "s3cret")))
            Assert.True(ok.IsConnected);
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => ConnectAsync(new UaUserIdentity("collector", "wrong")));
        Assert.Equal(StatusCodes.BadUserAccessDenied, ex.Status);
    }

    [Fact]
    public async Task Large_messages_are_chunked_with_small_negotiated_buffers()
    {
        var big = _sim.AddressSpace.AddVariable(new NodeId(3, "Big"), new QualifiedName(3, "Big"), WellKnownNodes.ObjectsFolder,
            new Variant(string.Concat(Enumerable.Repeat("0123456789", 10_000))), WellKnownNodes.StringType, writable: true);
        var limits = new UaChannelLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 };
        await using var client = await ConnectAsync(channel: new UaClientChannelOptions { Limits = limits });
        var value = await client.ReadValueAsync(big.NodeId);
        Assert.Equal(100_000, ((string)value.Value.Value!).Length);
        var reversed = new string(((string)value.Value.Value!).Reverse().ToArray());
        Assert.Equal(StatusCodes.Good, await client.WriteValueAsync(big.NodeId, new Variant(reversed)));
        Assert.Equal(reversed, big.Value.Value.Value);
    }

    [Fact]
    public async Task Response_larger_than_the_client_limit_becomes_a_fault_and_the_channel_survives()
    {
        _sim.AddressSpace.AddVariable(new NodeId(3, "Huge"), new QualifiedName(3, "Huge"), WellKnownNodes.ObjectsFolder,
            new Variant(new string('x', 200_000)), WellKnownNodes.StringType);
        var limits = new UaChannelLimits { MaxMessageSize = 64 * 1024 };
        await using var client = await ConnectAsync(channel: new UaClientChannelOptions { Limits = limits });
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => client.ReadValueAsync(new NodeId(3, "Huge")));
        Assert.Equal(StatusCodes.BadResponseTooLarge, ex.Status);
        Assert.True((await client.ReadValueAsync(_sim.TagId("F1", "State"))).Status.IsGood);
    }

    [Fact]
    public async Task Secure_channel_token_is_renewed_before_expiry()
    {
        var options = new UaClientChannelOptions { RequestedLifetime = TimeSpan.FromSeconds(1) };
        await using var channel = await UaClientChannel.ConnectAsync(_sim.EndpointUrl, options);
        var first = channel.TokenId;
        var renewed = 0;
        channel.TokenRenewed += _ => Interlocked.Increment(ref renewed);
        await Eventually.TrueAsync(() => Volatile.Read(ref renewed) >= 2, Wait);
        Assert.NotEqual(first, channel.TokenId);
        Assert.Equal(UaChannelState.Open, channel.State);
        var endpoints = await channel.SendRequestAsync<GetEndpointsResponse>(new GetEndpointsRequest { EndpointUrl = _sim.EndpointUrl });
        Assert.Equal(UaUris.SecurityPolicyNone, Assert.Single(endpoints.Endpoints!).SecurityPolicyUri);
        await channel.CloseAsync();
        Assert.Equal(UaChannelState.Closed, channel.State);
    }

    [Fact]
    public async Task Services_without_a_session_are_refused()
    {
        await using var channel = await UaClientChannel.ConnectAsync(_sim.EndpointUrl);
        var ex = await Assert.ThrowsAsync<UaServiceException>(() => channel.SendRequestAsync<ReadResponse>(new ReadRequest
        {
            NodesToRead = [new ReadValueId { NodeId = WellKnownNodes.NamespaceArray, AttributeId = Attributes.Value }],
        }));
        Assert.Equal(StatusCodes.BadSessionIdInvalid, ex.Status);
    }

    [Fact]
    public async Task Session_is_reactivated_after_the_connection_drops()
    {
        await using var client = await ConnectAsync();
        var changes = new ConcurrentQueue<UaDataChange>();
        var states = new ConcurrentQueue<UaConnectionState>();
        client.ConnectionChanged += (_, s) => states.Enqueue(s);
        var subscription = await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(50) },
            [new UaMonitoredItemRequest { NodeId = _sim.TagId("F1", "HeelMass") }], changes.Enqueue);
        await Eventually.TrueAsync(() => changes.Count >= 1, Wait);
        var sessionId = client.SessionId;

        // Cut every TCP connection on the server side; the session and subscription stay on the server.
        _sim.Server.DropConnections();
        await Eventually.TrueAsync(() => states.Contains(UaConnectionState.SessionRestored), Wait);
        Assert.Equal(sessionId, client.SessionId);
        Assert.Equal(1, subscription.GapCount);
        await client.WriteValueAsync(_sim.TagId("F1", "HeelMass"), new Variant(1234.0));
        await Eventually.TrueAsync(() => changes.Any(c => (double)c.Value.Value.Value! == 1234.0), Wait);
        Assert.True(changes.Single(c => (double)c.Value.Value.Value! == 1234.0).AfterGap);
    }
}
